-- People: API keys belong to users; users have an instance role and project roles by membership.
CREATE TABLE users (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  name text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
  email text CHECK (email IS NULL OR length(email) BETWEEN 3 AND 320),
  -- 'admin' may do everything; a 'member' only what their project roles allow.
  role text NOT NULL DEFAULT 'member' CHECK (role IN ('admin', 'member')),
  active boolean NOT NULL DEFAULT true,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX users_email ON users (lower(email)) WHERE email IS NOT NULL;

ALTER TABLE api_keys ADD COLUMN user_id uuid REFERENCES users (id), ADD COLUMN expires_at timestamptz;

CREATE TABLE project_members (
  project_id uuid NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
  user_id uuid NOT NULL REFERENCES users (id),
  role text NOT NULL CHECK (role IN ('manager', 'annotator', 'reviewer', 'expert', 'integrator', 'viewer')),
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (project_id, user_id)
);
CREATE INDEX project_members_user ON project_members (user_id);

-- Keys made before users existed: each becomes a user of its own. An admin key's user is an
-- admin; an annotator key's user keeps its reach as an annotator of every existing project.
DO $$
DECLARE k record; u uuid;
BEGIN
  FOR k IN SELECT id, name, role FROM api_keys ORDER BY created_at LOOP
    INSERT INTO users (name, role) VALUES (k.name, CASE WHEN k.role = 'admin' THEN 'admin' ELSE 'member' END) RETURNING id INTO u;
    UPDATE api_keys SET user_id = u WHERE id = k.id;
    IF k.role <> 'admin' THEN
      INSERT INTO project_members (project_id, user_id, role) SELECT id, u, 'annotator' FROM projects;
    END IF;
  END LOOP;
END $$;

ALTER TABLE api_keys ALTER COLUMN user_id SET NOT NULL, DROP COLUMN role;
CREATE INDEX api_keys_user ON api_keys (user_id);

-- Everything recorded names the acting user (NULL for imports). Rows from before users name the
-- user their key became, so open leases stay their holder's and statistics count them right.
ALTER TABLE annotations ADD COLUMN user_id uuid REFERENCES users (id);
ALTER TABLE task_leases ADD COLUMN user_id uuid REFERENCES users (id);
UPDATE task_leases l SET user_id = k.user_id FROM api_keys k WHERE k.id = l.api_key_id;
-- Annotations are append-only; this one-time backfill of the new column is the migration's.
ALTER TABLE annotations DISABLE TRIGGER annotations_no_update;
UPDATE annotations a SET user_id = k.user_id FROM api_keys k WHERE k.id = a.api_key_id AND a.source = 'annotator';
ALTER TABLE annotations ENABLE TRIGGER annotations_no_update;
