import type { FastifyRequest, onRequestAsyncHookHandler } from 'fastify';
import type { Pool } from '@alder/db';
import { authenticateApiKey } from './api-keys.repository';
import { HttpProblem, problems } from './problem';
import type { OperationAccess } from './spec';

/**
 * The key from `Authorization: Bearer <key>`, else from `X-API-Key` (an `Authorization` of
 * another scheme, e.g. a proxy's Basic auth, does not hide it).
 */
export function presentedKey(request: FastifyRequest): string | undefined {
  const bearer = /^Bearer\s+(\S+)\s*$/i.exec(request.headers.authorization ?? '');
  if (bearer) return bearer[1];
  const header = request.headers['x-api-key'];
  return typeof header === 'string' && header.trim() ? header.trim() : undefined;
}

/**
 * An onRequest hook: runs before the body is read, so a caller without a valid key learns
 * nothing about the operation's validation. Revocation takes effect at once (no cache).
 */
export function authHook(pool: Pool, access: OperationAccess): onRequestAsyncHookHandler {
  return async (request) => {
    const key = presentedKey(request);
    if (!key) throw problems.unauthorized('Send an API key as "Authorization: Bearer <key>" or "X-API-Key: <key>".');
    const identity = await authenticateApiKey(pool, key);
    if (!identity) throw problems.unauthorized('The API key is unknown or revoked.');
    if (!access.roles.includes(identity.role)) {
      throw new HttpProblem(403, 'forbidden', `A key with role "${identity.role}" may not call this operation.`);
    }
    request.apiKey = identity;
  };
}
