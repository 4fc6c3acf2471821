-- Integrations: senders of signed inbound webhooks (Standard Webhooks, @alder/webhooks) into a
-- project. Owned by services/ingest/src/integrations.repository.ts; the access hook reads an
-- integration's project (packages/http, api-keys.repository.ts).
CREATE TABLE integrations (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  project_id uuid NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
  name text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
  -- Kept as the sender has it: an HMAC is checked with the secret itself, so it can not be stored
  -- as a hash the way API keys are. It is never answered after its creation or rotation.
  secret text NOT NULL CHECK (secret LIKE 'whsec\_%'),
  -- The secret the last rotation replaced, accepted until previous_secret_expires_at (the overlap).
  previous_secret text CHECK (previous_secret LIKE 'whsec\_%'),
  previous_secret_expires_at timestamptz,
  secret_rotated_at timestamptz,
  created_at timestamptz NOT NULL DEFAULT now(),
  created_by uuid NOT NULL REFERENCES users (id),
  CHECK ((previous_secret IS NULL) = (previous_secret_expires_at IS NULL))
);
CREATE INDEX integrations_project ON integrations (project_id, created_at);
-- The creators' side of the users foreign key (users are deactivated, not deleted, but a check of
-- a user's references should not scan every integration).
CREATE INDEX integrations_created_by ON integrations (created_by);

-- Webhook ids an integration's deliveries used: a replayed or retried message is told apart from
-- a new one. Written in the transaction of the delivery's items, so a refused delivery leaves no
-- id behind. A captured message can only be replayed within the signature's timestamp tolerance
-- (5 minutes), far inside RETENTION_HOURS (at least 1), after which the retention sweep deletes
-- the row (by received_at).
CREATE TABLE received_webhooks (
  integration_id uuid NOT NULL REFERENCES integrations (id) ON DELETE CASCADE,
  webhook_id text NOT NULL CHECK (length(webhook_id) BETWEEN 1 AND 256),
  received_at timestamptz NOT NULL DEFAULT now(),
  -- SHA-256 of the body's bytes: the same id with another body is refused, not taken for a retry.
  body_sha256 bytea NOT NULL CHECK (length(body_sha256) = 32),
  -- The delivery's IngestResult, answered again to a retry; set before the transaction commits.
  result jsonb,
  PRIMARY KEY (integration_id, webhook_id)
);
CREATE INDEX received_webhooks_received_at ON received_webhooks (received_at);
