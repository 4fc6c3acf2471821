import { withTransaction } from '@alder/db';
import { actorOf, createApiKey, findUser, listApiKeys, problems, revokeApiKey, type HandlerDeps, type HandlerMap } from '@alder/http';
import { toApiKey } from './api-keys.mapping';
import { audit, instanceEvent } from './audit';

/**
 * API keys: the plain key is returned by create only; the database keeps its hash. Admins manage
 * every user's keys; a member their own (another user's key or id answers as missing).
 */
export function apiKeyHandlers({ pool }: HandlerDeps): HandlerMap {
  return {
    createApiKey: async (request, reply) => {
      const actor = actorOf(request);
      const userId = request.body.user_id ?? actor.userId;
      const owner = actor.role === 'admin' || userId === actor.userId ? await findUser(pool, userId) : null;
      if (!owner) throw problems.notFound(`No user ${userId}.`);
      if (!owner.active) throw problems.conflict('conflict', `User ${userId} is inactive; activate them before giving them a key.`);
      const expiresAt = request.body.expires_at ? new Date(request.body.expires_at) : null;
      if (expiresAt && expiresAt.getTime() <= Date.now()) {
        throw problems.validation('expires_at must be in the future.', [{ path: 'body/expires_at', message: 'must be in the future' }]);
      }
      const created = await withTransaction(pool, async (client) => {
        const key = await createApiKey(client, { name: request.body.name, userId, expiresAt });
        await audit(client, actor, [instanceEvent({ kind: 'key.created', subject: { type: 'api_key', id: key.id }, after: toApiKey(key) })]);
        return key;
      });
      request.log.info({ keyId: created.id, userId, by: actor.userId }, 'API key created');
      reply.code(201);
      return { ...toApiKey(created), key: created.key };
    },

    listApiKeys: async (request) => {
      const actor = actorOf(request);
      return { data: (await listApiKeys(pool, actor.role === 'admin' ? {} : { userId: actor.userId })).map(toApiKey) };
    },

    revokeApiKey: async (request, reply) => {
      const actor = actorOf(request);
      const keyId = request.params.key_id;
      const { outcome } = await withTransaction(pool, async (client) => {
        const revoked = await revokeApiKey(client, keyId, actor.role === 'admin' ? {} : { ownerId: actor.userId });
        if (revoked.outcome === 'revoked') {
          await audit(client, actor, [instanceEvent({ kind: 'key.revoked', subject: { type: 'api_key', id: keyId }, after: { user_id: revoked.key!.user_id } })]);
        }
        return revoked;
      });
      if (outcome === 'missing') throw problems.notFound(`No API key ${keyId}.`);
      if (outcome === 'last-admin') throw problems.conflict('last-admin-key', 'This is the last usable key of an admin; create another admin key first.');
      if (outcome === 'revoked') request.log.info({ keyId, by: actor.userId }, 'API key revoked');
      return reply.code(204).send();
    },
  };
}
