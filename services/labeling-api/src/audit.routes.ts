import { INSTANCE_CHAIN, itemHistory, pageAuditEvents, sealAuditEvents, verifyAuditChain, type AuditEvent } from '@alder/audit';
import type { Schemas } from '@alder/api-types';
import { problems, type HandlerDeps, type HandlerMap } from '@alder/http';
import { findItem } from './items.repository';

function page(events: AuditEvent[], limit: number): Schemas['AuditPage'] {
  return { data: events as Schemas['AuditEvent'][], next_after: events.length === limit ? events[events.length - 1]!.id : null };
}

/** The audit trail: pages of events, the chain's verification, an item's history. */
export function auditHandlers({ pool }: HandlerDeps): HandlerMap {
  return {
    listAuditEvents: async (request) => {
      // Link what can be linked, so a page read right after a change shows its seq.
      await sealAuditEvents(pool);
      const limit = request.query.limit ?? 100;
      const kinds = request.query.kind?.split(',');
      return page(await pageAuditEvents(pool, request.params.project_id, { after: request.query.after ?? 0, limit, kinds }), limit);
    },

    verifyAudit: async (request) => verifyAuditChain(pool, request.params.project_id),

    getItemHistory: async (request) => {
      await sealAuditEvents(pool);
      const { project_id: projectId, external_id: externalId } = request.params;
      const item = await findItem(pool, projectId, externalId);
      if (!item) throw problems.notFound(`No item ${externalId} in project ${projectId}.`);
      const limit = request.query.limit ?? 100;
      const events = await itemHistory(pool, projectId, { id: item.id, externalId }, { after: request.query.after ?? 0, limit });
      return {
        item: { id: item.id, external_id: item.external_id, split: item.split, status: item.status, created_at: item.created_at.toISOString() },
        ...page(events, limit),
      };
    },

    listInstanceAuditEvents: async (request) => {
      await sealAuditEvents(pool);
      const limit = request.query.limit ?? 100;
      return page(await pageAuditEvents(pool, INSTANCE_CHAIN, { after: request.query.after ?? 0, limit }), limit);
    },

    verifyInstanceAudit: async () => verifyAuditChain(pool, INSTANCE_CHAIN),
  };
}
