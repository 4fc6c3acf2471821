import { createHash } from 'node:crypto';
import type { Schemas } from '@alder/api-types';
import { withTransaction } from '@alder/db';
import { problems, type HandlerDeps, type HandlerMap, type OperationRequest } from '@alder/http';
import { DEFAULT_TOLERANCE_SECONDS, generateWebhookSecret, verifyWebhook, WebhookVerificationError, type VerifiedWebhook } from '@alder/webhooks';
import { checkBatchSize, ingestBatch } from './ingest-batch';
import { claimWebhookId, findSigner, lockIntegration, recordWebhookResult } from './integrations.repository';
import { lockProject } from './items.repository';

const MINUTES = DEFAULT_TOLERANCE_SECONDS / 60;
const REFUSED: Record<string, string> = {
  'missing-headers': 'webhook-timestamp must be Unix seconds and webhook-id must not contain ".".',
  'timestamp-too-old': `webhook-timestamp is more than ${MINUTES} minutes in the past (check the sender's clock, or sign each retry anew).`,
  'timestamp-too-new': `webhook-timestamp is more than ${MINUTES} minutes in the future (check the sender's clock).`,
  'bad-signature': 'No signature in webhook-signature matches this integration\'s secrets.',
};

/** The same answer for every refusal of the same message, whether or not the integration exists. */
const refused = (reason: string) => problems.invalidSignature(`The webhook is refused: ${REFUSED[reason] ?? REFUSED['bad-signature']}`);

/**
 * The signature over the bytes as they arrived. An unknown integration is checked against a
 * secret nobody has: it then fails exactly where a wrong signature fails (the checks before the
 * signature depend on the message alone), so the answer says nothing about which ids exist.
 */
function verified(request: OperationRequest<'receiveItemsWebhook'>, secrets: string[] | undefined, now: Date): VerifiedWebhook {
  const rawBody = request.rawBody;
  if (!rawBody) throw new Error('receiveItemsWebhook: no raw body kept (is the operation signed in the spec?)');
  try {
    return verifyWebhook({ secrets: secrets ?? [generateWebhookSecret()], headers: request.headers, rawBody, now });
  } catch (error) {
    // bad-secret would be a stored secret that is not one: a bug, not the sender's doing (500).
    if (!(error instanceof WebhookVerificationError) || error.reason === 'bad-secret') throw error;
    request.log.info({ integrationId: request.params.integration_id, reason: error.reason }, 'webhook refused');
    throw refused(error.reason);
  }
}

/**
 * POST /v1/hooks/{integration_id}/items: a batch pushed by an integration, authenticated by its
 * Standard Webhooks signature instead of a key, and ingested as `ingestItems` ingests. The
 * webhook id is taken in the items' transaction: a retry of a delivered message answers what it
 * answered then (`duplicate: true`), and a refused one leaves the id free.
 */
export function hookHandlers({ config, pool }: HandlerDeps, now: () => Date): HandlerMap {
  return {
    receiveItemsWebhook: async (request) => {
      const integrationId = request.params.integration_id;
      const at = now();
      const signer = await findSigner(pool, integrationId, at);
      const message = verified(request, signer?.secrets, at);
      const { projectId } = signer!;
      const items = request.body.items;
      checkBatchSize(items, config.MAX_ITEMS_PER_BATCH);
      // The bytes that were verified (a retry must repeat them exactly to be taken for one).
      const bodySha256 = createHash('sha256').update(request.rawBody!).digest();
      const outcome = await withTransaction(pool, async (client): Promise<Schemas['WebhookIngestResult']> => {
        // The project, then the integration: the order a project's deletion locks them in. Gone
        // since it was verified: as unknown as it would be now.
        if (!(await lockProject(client, projectId)) || !(await lockIntegration(client, integrationId))) throw refused('bad-signature');
        const earlier = await claimWebhookId(client, integrationId, message.id, bodySha256);
        if (earlier) {
          if (!earlier.sameBody) throw problems.conflict('webhook-id-reused', `webhook-id ${message.id} was already received with another body; a new message needs a new id.`);
          return { ...(earlier.result as Schemas['IngestResult']), duplicate: true };
        }
        const via = { integration_id: integrationId, webhook_id: message.id };
        const result = await ingestBatch(client, projectId, { user: null, via }, items, 'webhook');
        await recordWebhookResult(client, integrationId, message.id, result);
        return { ...result, duplicate: false };
      });
      request.log.info({ projectId, integrationId, webhookId: message.id, received: items.length, inserted: outcome.inserted, duplicate: outcome.duplicate }, 'webhook items ingested');
      return outcome;
    },
  };
}
