import { withTransaction } from '@alder/db';
import { createApiKey, listApiKeys, problems, revokeApiKey, type HandlerDeps, type HandlerMap } from '@alder/http';
import { toApiKey } from './api-keys.mapping';

/** API keys: the plain key is returned by create only; the database keeps its hash. */
export function apiKeyHandlers({ pool }: HandlerDeps): HandlerMap {
  return {
    createApiKey: async (request, reply) => {
      const created = await createApiKey(pool, { name: request.body.name, role: request.body.role ?? 'admin' });
      request.log.info({ keyId: created.id, role: created.role, by: request.apiKey?.id }, 'API key created');
      reply.code(201);
      return { ...toApiKey(created), key: created.key };
    },

    listApiKeys: async () => ({ data: (await listApiKeys(pool)).map(toApiKey) }),

    revokeApiKey: async (request, reply) => {
      const keyId = request.params.key_id;
      const outcome = await withTransaction(pool, (client) => revokeApiKey(client, keyId));
      if (outcome === 'missing') throw problems.notFound(`No API key ${keyId}.`);
      if (outcome === 'last-admin') throw problems.conflict('last-admin-key', 'This is the last active admin key; create another admin key first.');
      if (outcome === 'revoked') request.log.info({ keyId, by: request.apiKey?.id }, 'API key revoked');
      return reply.code(204).send();
    },
  };
}
