-- Idempotency-Key on creating POSTs (issue 9; openapi/README.md, "Idempotency keys"). One row per
-- API key, operation and client key: the request it was first used with (a SHA-256 of method,
-- path and canonical JSON body), whether that request is still running, and once it is done the
-- answer to replay. Whether a request is still running is told by a Postgres advisory lock its
-- process holds, not by this row (an in-flight row whose lock is free belongs to a request that
-- died, and the next request with the same key takes it over); `attempt` names the request that
-- holds the row, so one that was taken over writes nothing when it finishes.
CREATE TABLE idempotency_keys (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  -- Per API key, not per user: the stored body is sealed with a key derived from the API key
  -- itself (packages/http/src/response-seal.ts), so a created API key is never kept in the clear.
  api_key_id uuid NOT NULL REFERENCES api_keys (id) ON DELETE CASCADE,
  operation_id text NOT NULL,
  idempotency_key text NOT NULL CHECK (idempotency_key ~ '^[ -~]{1,255}$'),
  request_hash bytea NOT NULL CHECK (octet_length(request_hash) = 32),
  state text NOT NULL CHECK (state IN ('in_flight', 'done')),
  attempt uuid NOT NULL,
  response_status smallint CHECK (response_status BETWEEN 100 AND 499),
  -- content-type and location, as sent.
  response_headers jsonb,
  -- AES-256-GCM (nonce, tag, ciphertext); NULL for a done answer larger than Alder keeps.
  response_body bytea,
  created_at timestamptz NOT NULL DEFAULT now(),
  expires_at timestamptz NOT NULL,
  UNIQUE (api_key_id, operation_id, idempotency_key),
  CONSTRAINT idempotency_keys_done CHECK ((state = 'done') = (response_status IS NOT NULL AND response_headers IS NOT NULL)),
  CONSTRAINT idempotency_keys_in_flight CHECK (state = 'done' OR response_body IS NULL)
);

-- The retention sweep deletes expired rows oldest first.
CREATE INDEX idempotency_keys_expires_at ON idempotency_keys (expires_at);
