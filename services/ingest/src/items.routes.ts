import { randomUUID } from 'node:crypto';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { withTransaction } from '@alder/db';
import { HttpProblem, problems, type HandlerDeps, type OperationHandler, type ProblemFieldError } from '@alder/http';
import type { Schemas } from '@alder/api-types';
import { recordCompletedBatch } from './batches.repository';
import { landStagedItems } from './batch-landing';
import { createStaging, lockProject, stagingChunks, stagingCopy, type NewItem } from './items.repository';
import { ingestNdjsonStream } from './ndjson-ingest';

const MAX_LISTED_ERRORS = 100;

/** Postgres text and jsonb can not hold U+0000; refuse it here rather than fail inside COPY. */
function hasNul(item: Schemas['IngestItem']): boolean {
  return item.external_id.includes('\u0000') || item.text.includes('\u0000') || (item.meta != null && JSON.stringify(item.meta).includes('\\u0000'));
}

/** The batch rules the schema can not express; every bad row is reported, not just the first. */
export function batchErrors(items: Schemas['IngestItem'][], labels: readonly string[]): ProblemFieldError[] {
  const known = new Set(labels);
  const firstRow = new Map<string, number>();
  const errors: ProblemFieldError[] = [];
  items.forEach((item, row) => {
    const seen = firstRow.get(item.external_id);
    if (seen === undefined) firstRow.set(item.external_id, row);
    else errors.push({ path: `body/items/${row}/external_id`, message: `duplicates the external_id of row ${seen}` });
    if (item.label != null && !known.has(item.label)) {
      errors.push({ path: `body/items/${row}/label`, message: `"${item.label}" is not one of the project's labels` });
    }
    if (hasNul(item)) errors.push({ path: `body/items/${row}`, message: 'must not contain the character U+0000' });
    if (item.gold && (item.label == null || (item.split ?? 'pool') !== 'pool')) {
      errors.push({ path: `body/items/${row}/gold`, message: 'a gold item is a pool item with its known answer in label' });
    }
  });
  return errors;
}

function isStream(body: unknown): body is AsyncIterable<Buffer | string> {
  return body !== null && typeof body === 'object' && Symbol.asyncIterator in body && !Array.isArray(body);
}

/**
 * POST /v1/projects/{project_id}/items: a JSON batch, in one transaction or not at all; or an
 * NDJSON stream (ndjson-ingest.ts), whose good lines land and bad lines are refused one by one.
 * Either way the request is a batch the project keeps (batches.repository.ts).
 */
export function ingestItemsHandler({ config, pool, log }: HandlerDeps): OperationHandler<'ingestItems'> {
  return async (request) => {
    const { project_id: projectId } = request.params;
    const actor = request.actor ? { userId: request.actor.userId, keyId: request.actor.keyId } : null;
    const body: unknown = request.body;
    if (isStream(body)) {
      // A client gone mid-stream ends nothing by itself: the body would wait for bytes forever.
      const raw = request.raw;
      const onClose = () => {
        if (!raw.complete) (body as unknown as { destroy(error: Error): void }).destroy(Object.assign(new Error('aborted'), { code: 'ECONNRESET' }));
      };
      raw.once('close', onClose);
      const outcome = await ingestNdjsonStream({ pool, log: log.child({ module: 'ingest' }) }, { projectId, actor, body }).finally(() => raw.off('close', onClose));
      return {
        batch_id: outcome.batchId,
        status: 'completed',
        received: outcome.received,
        inserted: outcome.inserted,
        duplicates: outcome.duplicates,
        rejected: outcome.rejected,
        labels_imported: outcome.labelsImported,
        errors: outcome.errors.slice(0, MAX_LISTED_ERRORS),
      } satisfies Schemas['IngestResult'];
    }
    // The JSON body is validated against its schema by the HTTP layer; it is absent only when
    // the request had none at all.
    if (body === undefined || body === null) {
      throw problems.validation('The request has no body: send { "items": [...] } as application/json, or items as application/x-ndjson.', [
        { path: 'body', message: 'is required' },
      ]);
    }
    const items = request.body.items;
    if (items.length > config.MAX_ITEMS_PER_BATCH) {
      throw new HttpProblem(413, 'payload-too-large', `At most ${config.MAX_ITEMS_PER_BATCH} items per request; this one has ${items.length}.`);
    }
    return withTransaction(pool, async (client) => {
      const project = await lockProject(client, projectId);
      if (!project) throw problems.notFound(`No project ${projectId}.`);
      const errors = batchErrors(items, project.labels);
      if (errors.length) {
        throw problems.validation(`${errors.length} problem(s) in the batch; nothing was written.`, errors.slice(0, MAX_LISTED_ERRORS));
      }
      const rows: NewItem[] = items.map((item) => ({
        external_id: item.external_id,
        text: item.text,
        meta: item.meta ?? {},
        split: item.split ?? 'pool',
        label: item.label ?? null,
        gold: item.gold ?? false,
      }));
      await createStaging(client);
      await pipeline(Readable.from(stagingChunks(rows)), stagingCopy(client));
      // Named before it is written (once it has landed), so the audit event can name it.
      const batchId = randomUUID();
      const result = await landStagedItems(client, { projectId, batchId, actor, received: items.length, rejected: 0 });
      await recordCompletedBatch(client, {
        id: batchId,
        projectId,
        source: 'json',
        userId: actor?.userId ?? null,
        keyId: actor?.keyId ?? null,
        counts: { received: items.length, accepted: result.inserted, duplicate: items.length - result.inserted, rejected: 0, labelsImported: result.labelsImported },
      });
      request.log.info({ projectId, batchId, received: items.length, inserted: result.inserted }, 'items ingested');
      return {
        batch_id: batchId,
        status: 'completed',
        received: items.length,
        inserted: result.inserted,
        duplicates: items.length - result.inserted,
        rejected: 0,
        labels_imported: result.labelsImported,
        errors: [],
      } satisfies Schemas['IngestResult'];
    });
  };
}
