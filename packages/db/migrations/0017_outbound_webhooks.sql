-- Outbound webhooks (issue 9): subscriptions per project, the events they were sent, one delivery
-- per (event, subscription) and every attempt at it. Owned by
-- services/ingest/src/outbound/subscriptions.repository.ts (subscriptions, the project's event
-- mask) and deliveries.repository.ts (events, deliveries, attempts). Events are written to the
-- outbox by @alder/queues (emitEvent) in the transaction of their change; the fan-out job copies
-- each into webhook_events and writes its deliveries.

-- The event types some enabled subscription of the project wants, one bit each (@alder/queues,
-- EVENT_BITS). 0, the default, is "nobody listens": the writers of frequent events (the
-- annotator's submit) read it with the rows they already read and write nothing. Only the
-- subscription writers change it, with the project row locked.
ALTER TABLE projects ADD COLUMN webhook_events integer NOT NULL DEFAULT 0;

CREATE TABLE webhook_subscriptions (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  project_id uuid NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
  url text NOT NULL CHECK (length(url) BETWEEN 1 AND 2048),
  -- The event types it receives; NULL: every type, those added later included.
  events text[] CHECK (events IS NULL OR cardinality(events) >= 1),
  description text NOT NULL DEFAULT '' CHECK (length(description) <= 500),
  -- Kept as is: each delivery is signed with it (an HMAC needs the secret itself).
  secret text NOT NULL CHECK (secret LIKE 'whsec\_%'),
  -- A rotation's previous secret: deliveries are signed with both until it expires.
  previous_secret text CHECK (previous_secret LIKE 'whsec\_%'),
  previous_secret_expires_at timestamptz,
  secret_rotated_at timestamptz,
  enabled boolean NOT NULL DEFAULT true,
  disabled_reason text,
  disabled_at timestamptz,
  -- Deliveries in a row that ended as dead letters (reset by a success or a re-enable).
  consecutive_failures integer NOT NULL DEFAULT 0,
  created_at timestamptz NOT NULL DEFAULT now(),
  created_by uuid NOT NULL REFERENCES users (id),
  CHECK ((previous_secret IS NULL) = (previous_secret_expires_at IS NULL)),
  CHECK (enabled = (disabled_at IS NULL))
);
CREATE INDEX webhook_subscriptions_project ON webhook_subscriptions (project_id, created_at);
CREATE INDEX webhook_subscriptions_created_by ON webhook_subscriptions (created_by);

-- An event as it is sent: the body's exact text, so every attempt and replay signs the same bytes.
CREATE TABLE webhook_events (
  id uuid PRIMARY KEY,
  project_id uuid NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
  type text NOT NULL,
  body text NOT NULL,
  occurred_at timestamptz NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX webhook_events_created ON webhook_events (created_at);

CREATE TABLE webhook_deliveries (
  id bigserial PRIMARY KEY,
  subscription_id uuid NOT NULL REFERENCES webhook_subscriptions (id) ON DELETE CASCADE,
  event_id uuid NOT NULL REFERENCES webhook_events (id) ON DELETE CASCADE,
  -- pending: an attempt is due at next_attempt_at; delivered: a 2xx; dead: a dead letter (the
  -- schedule ran out, the receiver answered 410, or the target was refused).
  status text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'delivered', 'dead')),
  -- Attempts made, in all; `schedule_step` is the position in the retry schedule (a replay restarts it).
  attempts integer NOT NULL DEFAULT 0,
  schedule_step integer NOT NULL DEFAULT 0,
  -- When the next attempt is due; while one is in flight, when it may be taken over (a worker
  -- that died with it). NULL once the delivery ended.
  next_attempt_at timestamptz,
  last_status_code integer,
  last_error text,
  created_at timestamptz NOT NULL DEFAULT now(),
  ended_at timestamptz,
  UNIQUE (event_id, subscription_id),
  CHECK ((status = 'pending') = (next_attempt_at IS NOT NULL)),
  CHECK ((status = 'pending') = (ended_at IS NULL))
);
-- The dispatcher's claim: due pending deliveries, soonest first.
CREATE INDEX webhook_deliveries_due ON webhook_deliveries (next_attempt_at) WHERE status = 'pending';
-- The delivery log of a subscription, newest first, by status.
CREATE INDEX webhook_deliveries_subscription ON webhook_deliveries (subscription_id, status, id DESC);
CREATE INDEX webhook_deliveries_ended ON webhook_deliveries (ended_at) WHERE status <> 'pending';

CREATE TABLE webhook_attempts (
  id bigserial PRIMARY KEY,
  delivery_id bigint NOT NULL REFERENCES webhook_deliveries (id) ON DELETE CASCADE,
  attempt integer NOT NULL CHECK (attempt >= 1),
  started_at timestamptz NOT NULL,
  duration_ms integer NOT NULL CHECK (duration_ms >= 0),
  -- The final answer's status (after redirects), NULL when none came (timeout, refused target, ...).
  status_code integer,
  error text,
  -- The start of the receiver's answer, capped (WEBHOOK_RESPONSE_EXCERPT_BYTES).
  response_excerpt text,
  -- The URL of the last hop tried (a redirect's target).
  url text NOT NULL,
  UNIQUE (delivery_id, attempt)
);
