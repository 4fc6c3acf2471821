import { randomUUID } from 'node:crypto';
import type { Middleware } from 'openapi-fetch';

/** The header under which Alder replays the first answer to a repeated request (same key, same body). */
export const IDEMPOTENCY_HEADER = 'Idempotency-Key';

/**
 * Gives every POST without one a fresh Idempotency-Key. Middleware runs once per call, before
 * the retrying fetch, so the retries of one call carry the same key and a second call a new one.
 */
export const idempotencyMiddleware: Middleware = {
  onRequest({ request }) {
    if (request.method === 'POST' && !request.headers.has(IDEMPOTENCY_HEADER)) request.headers.set(IDEMPOTENCY_HEADER, randomUUID());
    return request;
  },
};
