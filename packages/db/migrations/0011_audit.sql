-- The audit trail (@alder/audit, packages/audit/README.md). Writers append events in the
-- transaction of the change they record (one INSERT, no lock: the annotator's hot path must not
-- queue behind other writers of its project). A sealer then links them, per project, into a hash
-- chain in audit_chain: each link's hash is sha256(prev_hash || the event's content as canonical
-- jsonb text, its seq included), 32 zero bytes before the first; audit_heads holds each chain's
-- last seq and hash, so the deletion of a chain's last links is seen too. The sealer only links
-- events whose transaction ended (txid below the oldest running one), in (txid, id) order, so no
-- committed event is ever skipped and the chain's order never changes. Only tables created here are
-- referenced: project_id has no foreign key on purpose (a project's deletion is itself an audited
-- event, and its trail outlives it).
CREATE TABLE audit_events (
  id bigserial PRIMARY KEY,
  project_id uuid NOT NULL,
  -- '<noun>.<verb>', lowercase: 'annotation.created', 'lease.created', 'member.added'.
  kind text NOT NULL CHECK (kind ~ '^[a-z0-9_]+(\.[a-z0-9_]+)+$'),
  -- Both NULL: the system (the trainer, a sweeper).
  actor_user_id uuid,
  actor_key_id uuid,
  subject_type text NOT NULL CHECK (subject_type <> ''),
  subject_id text NOT NULL,
  -- The item the event concerns, if any: its id, and its external id to list its history by.
  item_id bigint,
  item_external_id text,
  before jsonb,
  after jsonb,
  created_at timestamptz NOT NULL DEFAULT now(),
  -- The writing transaction: the sealer links an event once this transaction has ended.
  txid xid8 NOT NULL DEFAULT pg_current_xact_id(),
  CHECK ((item_id IS NULL) = (item_external_id IS NULL))
);
CREATE INDEX audit_events_seal ON audit_events (txid, id);
CREATE INDEX audit_events_project ON audit_events (project_id, id);
CREATE INDEX audit_events_item ON audit_events (project_id, item_external_id, id) WHERE item_external_id IS NOT NULL;

-- The chain: one link per sealed event, seq 1, 2, 3... per project.
CREATE TABLE audit_chain (
  project_id uuid NOT NULL,
  seq bigint NOT NULL CHECK (seq >= 1),
  event_id bigint NOT NULL UNIQUE,
  prev_hash bytea NOT NULL CHECK (length(prev_hash) = 32),
  hash bytea NOT NULL CHECK (length(hash) = 32),
  PRIMARY KEY (project_id, seq)
);

CREATE TABLE audit_heads (
  project_id uuid PRIMARY KEY,
  seq bigint NOT NULL CHECK (seq >= 1),
  hash bytea NOT NULL CHECK (length(hash) = 32)
);

-- How far the sealer got: every event with a txid below `horizon` is linked.
CREATE TABLE audit_sealer (
  id smallint PRIMARY KEY CHECK (id = 1),
  horizon xid8 NOT NULL
);
INSERT INTO audit_sealer (id, horizon) VALUES (1, '0');

-- The one definition of an event's hashed content and of its timestamp's text. jsonb's text form
-- is canonical (keys sorted, one spacing), so the hash is reproducible from the stored rows alone.
CREATE FUNCTION audit_time_text(ts timestamptz) RETURNS text
  LANGUAGE sql STABLE PARALLEL SAFE
  AS $$ SELECT to_char(ts AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') $$;

CREATE FUNCTION audit_event_content(
  project_id uuid, seq bigint, kind text, actor_user_id uuid, actor_key_id uuid, subject_type text,
  subject_id text, item_id bigint, item_external_id text, before jsonb, after jsonb, created_at timestamptz
) RETURNS jsonb
  LANGUAGE sql STABLE PARALLEL SAFE
  AS $$ SELECT jsonb_build_object(
    'project_id', project_id, 'seq', seq, 'kind', kind,
    'actor_user_id', actor_user_id, 'actor_key_id', actor_key_id,
    'subject_type', subject_type, 'subject_id', subject_id,
    'item_id', item_id, 'item_external_id', item_external_id,
    'before', before, 'after', after,
    'created_at', audit_time_text(created_at)
  ) $$;

CREATE FUNCTION audit_event_hash(prev_hash bytea, content jsonb) RETURNS bytea
  LANGUAGE sql STABLE PARALLEL SAFE
  AS $$ SELECT sha256(prev_hash || convert_to(content::text, 'UTF8')) $$;

-- Append-only: no UPDATE, DELETE or TRUNCATE of events or links.
CREATE FUNCTION audit_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION '% is append-only', TG_TABLE_NAME;
END $$;
CREATE TRIGGER audit_events_no_update BEFORE UPDATE ON audit_events FOR EACH ROW EXECUTE FUNCTION audit_append_only();
CREATE TRIGGER audit_events_no_delete BEFORE DELETE ON audit_events FOR EACH ROW EXECUTE FUNCTION audit_append_only();
CREATE TRIGGER audit_events_no_truncate BEFORE TRUNCATE ON audit_events FOR EACH STATEMENT EXECUTE FUNCTION audit_append_only();
CREATE TRIGGER audit_chain_no_update BEFORE UPDATE ON audit_chain FOR EACH ROW EXECUTE FUNCTION audit_append_only();
CREATE TRIGGER audit_chain_no_delete BEFORE DELETE ON audit_chain FOR EACH ROW EXECUTE FUNCTION audit_append_only();
CREATE TRIGGER audit_chain_no_truncate BEFORE TRUNCATE ON audit_chain FOR EACH STATEMENT EXECUTE FUNCTION audit_append_only();

-- A head only moves forward: never deleted, never to a lower seq, never to another project.
CREATE FUNCTION audit_heads_forward_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP <> 'UPDATE' OR NEW.project_id <> OLD.project_id OR NEW.seq < OLD.seq THEN
    RAISE EXCEPTION 'audit_heads only move forward';
  END IF;
  RETURN NEW;
END $$;
CREATE TRIGGER audit_heads_forward BEFORE UPDATE OR DELETE ON audit_heads
  FOR EACH ROW EXECUTE FUNCTION audit_heads_forward_only();
CREATE TRIGGER audit_heads_no_truncate BEFORE TRUNCATE ON audit_heads
  FOR EACH STATEMENT EXECUTE FUNCTION audit_heads_forward_only();
