import type { Readable } from 'node:stream';
import { withTransaction } from '@alder/db';
import { mediaTypeOf, MULTIPART, problems, type HandlerDeps, type OperationHandler } from '@alder/http';
import type { Schemas } from '@alder/api-types';
import { checkBatchSize, ingestBatch, MAX_LISTED_ERRORS } from './ingest-batch';
import { importFile } from './file-import';
import { ingestNdjsonStream } from './ndjson-ingest';

export { batchErrors } from './ingest-batch';

function isStream(body: unknown): body is AsyncIterable<Buffer | string> {
  return body !== null && typeof body === 'object' && Symbol.asyncIterator in body && !Array.isArray(body);
}

/**
 * POST /v1/projects/{project_id}/items: a JSON batch, in one transaction or not at all; or an
 * NDJSON stream (ndjson-ingest.ts), whose good lines land and bad lines are refused one by one;
 * or a JSONL/CSV file as multipart/form-data (file-import.ts), through the stream's pipeline.
 * Either way the request is a batch the project keeps (batches.repository.ts).
 */
export function ingestItemsHandler({ config, pool, log }: HandlerDeps): OperationHandler<'ingestItems'> {
  return async (request, reply) => {
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
      const ingestLog = log.child({ module: 'ingest' });
      const run =
        mediaTypeOf(request) === MULTIPART
          ? importFile({ pool, log: ingestLog, maxInflatedBytes: config.MAX_INFLATED_BYTES, chunkRows: config.INGEST_CHUNK_ROWS }, { projectId, actor, body: body as unknown as Readable, contentType: request.headers['content-type']! })
          : ingestNdjsonStream({ pool, log: ingestLog }, { projectId, actor, body, chunkRows: config.INGEST_CHUNK_ROWS });
      const outcome = await run
        .catch((error: unknown) => {
          // Refused before the body was read to its end: the rest of it is not read either, so the
          // connection closes after the answer rather than wait for bytes nobody takes.
          if (!raw.complete) reply.header('connection', 'close');
          throw error;
        })
        .finally(() => raw.off('close', onClose));
      return {
        batch_id: outcome.batchId,
        status: 'completed',
        ...outcome.counts,
        errors: outcome.errors.slice(0, MAX_LISTED_ERRORS),
      } satisfies Schemas['IngestResult'];
    }
    // The JSON body is validated against its schema by the HTTP layer; it is absent only when
    // the request had none at all.
    if (body === undefined || body === null) {
      throw problems.validation('The request has no body: send { "items": [...] } as application/json, items as application/x-ndjson, or a file as multipart/form-data.', [
        { path: 'body', message: 'is required' },
      ]);
    }
    const items = request.body.items;
    checkBatchSize(items, config.MAX_ITEMS_PER_BATCH);
    const result = await withTransaction(pool, (client) => ingestBatch(client, projectId, { user: request.actor }, items));
    request.log.info({ projectId, batchId: result.batch_id, received: items.length, inserted: result.inserted }, 'items ingested');
    return result;
  };
}
