import { appendAuditEvents, auditActor } from '@alder/audit';
import type { Config } from '@alder/config';
import { withTransaction, type Queryable } from '@alder/db';
import { actorOf, problems, type Actor, type HandlerDeps, type HandlerMap } from '@alder/http';
import type { EventType } from '@alder/queues';
import { generateWebhookSecret } from '@alder/webhooks';
import { listDeliveries, lockDelivery, replayDelivery } from './deliveries.repository';
import {
  deleteSubscription,
  findSubscription,
  insertSubscription,
  listSubscriptions,
  lockProjectForSubscriptions,
  refreshEventMask,
  rotateSubscriptionSecret,
  updateSubscription,
  type StoredSubscription,
} from './subscriptions.repository';
import { resolvedRefusal, targetPolicy } from './target-guard';
import { toDelivery, toWebhook } from './webhooks.mapping';

/** How long a replaced secret keeps signing when the rotation does not say (the spec's default). */
const DEFAULT_OVERLAP_SECONDS = 86_400;

async function auditWebhook(tx: Queryable, actor: Actor, kind: string, sub: StoredSubscription, after: Record<string, unknown>): Promise<void> {
  await appendAuditEvents(tx, [{ projectId: sub.project_id, kind, actor: auditActor(actor), subject: { type: 'webhook', id: sub.id }, after }]);
}

const notFound = (id: string) => problems.notFound(`No webhook ${id}.`);

/**
 * Webhook subscriptions of a project (managers). Every change of what is enabled or wanted runs
 * with the project row locked and rewrites the project's event mask in the same transaction.
 */
export function webhookHandlers({ pool, config }: HandlerDeps): HandlerMap {
  const policy = targetPolicy(config as Config);

  /** 422 for a URL the target policy refuses (checked again on every attempt and redirect). */
  async function checkUrl(url: string): Promise<void> {
    let parsed: URL;
    try {
      parsed = new URL(url);
    } catch {
      throw problems.validation('The webhook URL is not a URL.', [{ path: 'body/url', message: 'must be an absolute http or https URL' }]);
    }
    const refused = await resolvedRefusal(parsed, policy);
    if (refused) throw problems.validation(`The webhook URL is refused: ${refused}.`, [{ path: 'body/url', message: refused }]);
  }

  /** Runs a change with the project locked; the subscription of this project, or 404. */
  async function change<T>(projectId: string, id: string, run: (client: Queryable, sub: StoredSubscription) => Promise<T>): Promise<T> {
    return withTransaction(pool, async (client) => {
      if (!(await lockProjectForSubscriptions(client, projectId))) throw problems.notFound(`No project ${projectId}.`);
      const sub = await findSubscription(client, projectId, id, true);
      if (!sub) throw notFound(id);
      return run(client, sub);
    });
  }

  return {
    createWebhook: async (request, reply) => {
      const actor = actorOf(request);
      const projectId = request.params.project_id;
      const body = request.body;
      await checkUrl(body.url);
      const secret = generateWebhookSecret();
      const created = await withTransaction(pool, async (client) => {
        if (!(await lockProjectForSubscriptions(client, projectId))) throw problems.notFound(`No project ${projectId}.`);
        const sub = await insertSubscription(client, { projectId, url: body.url, events: (body.events ?? null) as EventType[] | null, description: body.description ?? '', secret, createdBy: actor.userId });
        await refreshEventMask(client, projectId);
        await auditWebhook(client, actor, 'webhook.created', sub, { url: sub.url, events: sub.events });
        return sub;
      });
      request.log.info({ projectId, webhookId: created.id, by: actor.userId }, 'webhook subscription created');
      reply.code(201);
      return { ...toWebhook(created), secret };
    },

    listWebhooks: async (request) => ({ data: (await listSubscriptions(pool, request.params.project_id)).map(toWebhook) }),

    getWebhook: async (request) => {
      const sub = await findSubscription(pool, request.params.project_id, request.params.webhook_id);
      if (!sub) throw notFound(request.params.webhook_id);
      return toWebhook(sub);
    },

    updateWebhook: async (request) => {
      const actor = actorOf(request);
      const { project_id: projectId, webhook_id: id } = request.params;
      const body = request.body;
      if (body.url !== undefined) await checkUrl(body.url);
      return toWebhook(
        await change(projectId, id, async (client, before) => {
          const after = await updateSubscription(client, projectId, id, {
            url: body.url,
            events: body.events === undefined ? undefined : ((body.events ?? null) as EventType[] | null),
            description: body.description,
            enabled: body.enabled,
            disabledReason: body.enabled === false ? `disabled by ${actor.name ?? actor.userId}` : undefined,
          });
          await refreshEventMask(client, projectId);
          await auditWebhook(client, actor, 'webhook.updated', after!, { before: { url: before.url, events: before.events, enabled: before.enabled }, ...body });
          return after!;
        }),
      );
    },

    deleteWebhook: async (request, reply) => {
      const actor = actorOf(request);
      const { project_id: projectId, webhook_id: id } = request.params;
      await change(projectId, id, async (client, sub) => {
        await deleteSubscription(client, projectId, id);
        await refreshEventMask(client, projectId);
        await auditWebhook(client, actor, 'webhook.deleted', sub, { url: sub.url });
      });
      request.log.info({ projectId, webhookId: id, by: actor.userId }, 'webhook subscription deleted');
      return reply.code(204).send();
    },

    rotateWebhookSecret: async (request) => {
      const actor = actorOf(request);
      const { project_id: projectId, webhook_id: id } = request.params;
      const overlapSeconds = request.body?.overlap_seconds ?? DEFAULT_OVERLAP_SECONDS;
      const secret = generateWebhookSecret();
      const rotated = await change(projectId, id, async (client) => {
        const sub = (await rotateSubscriptionSecret(client, projectId, id, { secret, overlapSeconds }))!;
        await auditWebhook(client, actor, 'webhook.secret_rotated', sub, { overlap_seconds: overlapSeconds });
        return sub;
      });
      return { ...toWebhook(rotated), secret };
    },

    listWebhookDeliveries: async (request) => {
      const { project_id: projectId, webhook_id: id } = request.params;
      if (!(await findSubscription(pool, projectId, id))) throw notFound(id);
      const limit = request.query.limit ?? 50;
      const offset = request.query.offset ?? 0;
      const { rows, total } = await listDeliveries(pool, id, { status: request.query.status, limit, offset });
      return { data: rows.map(toDelivery), total, limit, offset };
    },

    replayWebhookDelivery: async (request, reply) => {
      const actor = actorOf(request);
      const { project_id: projectId, webhook_id: id, delivery_id: deliveryId } = request.params;
      const replayed = await change(projectId, id, async (client, sub) => {
        const delivery = await lockDelivery(client, id, deliveryId);
        if (!delivery) throw problems.notFound(`No delivery ${deliveryId}.`);
        if (delivery.status === 'pending') throw problems.conflict('delivery-pending', 'This delivery is still pending: its next attempt is scheduled.');
        if (!sub.enabled) throw problems.conflict('webhook-disabled', `This webhook is disabled (${sub.disabled_reason ?? 'no reason given'}); enable it before replaying.`);
        const row = await replayDelivery(client, deliveryId);
        await auditWebhook(client, actor, 'webhook.delivery_replayed', sub, { delivery_id: deliveryId, event_id: row.event_id, was: delivery.status });
        return row;
      });
      reply.code(202);
      return toDelivery(replayed);
    },
  };
}
