import { appendAuditEvents, auditActor } from '@alder/audit';
import { withTransaction, type Queryable } from '@alder/db';
import { actorOf, problems, type Actor, type HandlerDeps, type HandlerMap } from '@alder/http';
import { generateWebhookSecret } from '@alder/webhooks';
import { deleteIntegration, insertIntegration, listIntegrations, rotateIntegrationSecret, type StoredIntegration } from './integrations.repository';
import { toIntegration } from './integrations.mapping';

/** How long a replaced secret stays valid when the rotation does not say (the spec's default). */
export const DEFAULT_OVERLAP_SECONDS = 86_400;

/** The integration's event in its project's audit trail; secrets are never recorded. */
async function auditIntegration(tx: Queryable, actor: Actor, kind: string, integration: StoredIntegration, after: Record<string, unknown>): Promise<void> {
  await appendAuditEvents(tx, [{ projectId: integration.project_id, kind, actor: auditActor(actor), subject: { type: 'integration', id: integration.id }, after }]);
}

/**
 * Integrations of a project (managers): create and rotate answer the secret, the only times it
 * is shown; `now` is the clock overlaps are measured by (the one deliveries are checked with).
 */
export function integrationHandlers({ pool }: HandlerDeps, now: () => Date): HandlerMap {
  return {
    createIntegration: async (request, reply) => {
      const actor = actorOf(request);
      const projectId = request.params.project_id;
      const secret = generateWebhookSecret();
      const created = await withTransaction(pool, async (client) => {
        const integration = await insertIntegration(client, { projectId, name: request.body.name, secret, createdBy: actor.userId });
        await auditIntegration(client, actor, 'integration.created', integration, { name: integration.name });
        return integration;
      });
      request.log.info({ projectId, integrationId: created.id, by: actor.userId }, 'integration created');
      reply.code(201);
      return { ...toIntegration(created), secret };
    },

    listIntegrations: async (request) => ({ data: (await listIntegrations(pool, request.params.project_id)).map(toIntegration) }),

    rotateIntegrationSecret: async (request) => {
      const actor = actorOf(request);
      const integrationId = request.params.integration_id;
      const overlapSeconds = request.body.overlap_seconds ?? DEFAULT_OVERLAP_SECONDS;
      const secret = generateWebhookSecret();
      const rotated = await withTransaction(pool, async (client) => {
        const integration = await rotateIntegrationSecret(client, integrationId, { secret, now: now(), overlapSeconds });
        // Deleted since the access hook found it.
        if (!integration) throw problems.notFound(`No integration ${integrationId}.`);
        await auditIntegration(client, actor, 'integration.secret_rotated', integration, {
          overlap_seconds: overlapSeconds,
          previous_secret_expires_at: integration.previous_secret_expires_at?.toISOString() ?? null,
        });
        return integration;
      });
      request.log.info({ integrationId, overlapSeconds, by: actor.userId }, 'integration secret rotated');
      return { ...toIntegration(rotated), secret };
    },

    deleteIntegration: async (request, reply) => {
      const actor = actorOf(request);
      const integrationId = request.params.integration_id;
      await withTransaction(pool, async (client) => {
        const integration = await deleteIntegration(client, integrationId);
        if (!integration) throw problems.notFound(`No integration ${integrationId}.`);
        await auditIntegration(client, actor, 'integration.deleted', integration, { name: integration.name });
      });
      request.log.info({ integrationId, by: actor.userId }, 'integration deleted');
      return reply.code(204).send();
    },
  };
}
