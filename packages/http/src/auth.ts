import type { FastifyRequest, onRequestAsyncHookHandler } from 'fastify';
import type { Pool } from '@alder/db';
import { authenticateApiKey } from './api-keys.repository';
import type { Actor } from './handler';
import { HttpProblem, problems } from './problem';
import type { OperationAccess, ProjectResolver } from './spec';

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

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** The path parameter each resolver finds the project by, and how a missing one is worded. */
const RESOLVERS: Record<ProjectResolver, { param: string; missing: (id: string) => string }> = {
  path: { param: 'project_id', missing: (id) => `No project ${id}.` },
  task: { param: 'task_id', missing: (id) => `No task ${id}.` },
  review: { param: 'review_id', missing: (id) => `No review ${id}.` },
  integration: { param: 'integration_id', missing: (id) => `No integration ${id}.` },
};

/** The headers a Standard Webhooks message carries (`@alder/webhooks`). */
const SIGNATURE_HEADERS = ['webhook-id', 'webhook-timestamp', 'webhook-signature'] as const;

/**
 * The access hook of an operation that is signed instead of keyed (`{ signature: ... }`): before
 * the body is read, a request without the three Standard Webhooks headers is refused, so an
 * unsigned caller learns nothing about the operation's validation. The signature itself can only
 * be checked against the body: the handler does that, with the bytes the app kept for it
 * (`request.rawBody`) and the secrets of the resource the rule names.
 */
export function signatureHook(): onRequestAsyncHookHandler {
  return async (request) => {
    const missing = SIGNATURE_HEADERS.filter((name) => {
      const value = request.headers[name];
      return typeof value !== 'string' || value.trim() === '';
    });
    if (missing.length) throw problems.invalidSignature(`Sign the request as Standard Webhooks do; missing: ${missing.join(', ')}.`);
  };
}

/**
 * The access hook: the one place where every operation's `x-alder-access` is enforced. An
 * onRequest hook, so it runs before the body is read and a caller without access learns nothing
 * about the operation's validation. One round trip finds the key's user and, for a project
 * operation, the project and the user's membership. A project (or task) the user is not a
 * member of answers exactly as a missing one. Revocation, expiry and deactivation take effect at
 * once (no cache).
 */
export function accessHook(pool: Pool, access: OperationAccess): onRequestAsyncHookHandler {
  const { rule } = access;
  return async (request) => {
    const key = presentedKey(request);
    if (!key) throw problems.unauthorized('Send an API key as "Authorization: Bearer <key>" or "X-API-Key: <key>".');
    let scope: { resolver: ProjectResolver; id: string } | undefined;
    if ('project' in rule) {
      const id = (request.params as Record<string, string | undefined>)[RESOLVERS[rule.project].param];
      // A malformed id is left to the schema validation (422), which follows this hook.
      if (id !== undefined && UUID.test(id)) scope = { resolver: rule.project, id };
    }
    const identity = await authenticateApiKey(pool, key, scope);
    if (!identity) throw problems.unauthorized('The API key is unknown, revoked or expired, or its user is inactive.');
    const actor: Actor = {
      keyId: identity.key_id,
      userId: identity.user_id,
      name: identity.name,
      role: identity.role,
      projectId: identity.project_id,
      projectRole: identity.project_role,
    };
    if ('instance' in rule) {
      if (rule.instance === 'admin' && actor.role !== 'admin') throw problems.forbidden('Only an admin may call this operation.');
    } else if ('project' in rule && scope) {
      // Not a member is not found: nobody learns that a project they are not in exists.
      const deletedButRetained = rule.retained === true && actor.role === 'admin' && scope.resolver === 'path';
      if ((actor.projectId === null && !deletedButRetained) || (actor.role !== 'admin' && actor.projectRole === null)) {
        throw problems.notFound(RESOLVERS[scope.resolver].missing(scope.id));
      }
      if (actor.role !== 'admin' && !rule.roles.includes(actor.projectRole!)) {
        throw new HttpProblem(403, 'forbidden', `Your role in this project ("${actor.projectRole}") may not call this operation; it needs one of: ${rule.roles.join(', ')}.`);
      }
    }
    request.actor = actor;
  };
}

/** The acting user of a request that passed the access hook (every authenticated operation). */
export function actorOf(request: FastifyRequest): Actor {
  if (!request.actor) throw new Error('actorOf: the operation has no access hook (is it authenticated in the spec?)');
  return request.actor;
}
