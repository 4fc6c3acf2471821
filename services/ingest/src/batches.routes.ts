import type { Schemas } from '@alder/api-types';
import { problems, type HandlerDeps, type HandlerMap } from '@alder/http';
import { findBatch, listBatches, type BatchRowError, type StoredBatch } from './batches.repository';

function toBatch(batch: StoredBatch, errors: BatchRowError[]): Schemas['Batch'] {
  return {
    batch_id: batch.id,
    project_id: batch.project_id,
    source: batch.source,
    status: batch.status,
    received: batch.received,
    inserted: batch.accepted,
    duplicates: batch.duplicate,
    updated: batch.updated,
    skipped_changes: batch.skipped_changes,
    duplicate_texts: batch.duplicate_texts,
    rejected: batch.rejected,
    labels_imported: batch.labels_imported,
    abort_reason: batch.abort_reason,
    stopped_at_line: batch.stopped_at_line,
    file: batch.file_format ? { name: batch.file_name, format: batch.file_format } : null,
    created_by: batch.created_by,
    created_at: batch.created_at.toISOString(),
    finished_at: batch.finished_at?.toISOString() ?? null,
    errors,
  };
}

/** GET .../batches and .../batches/{batch_id}: what each way in made of its rows. */
export function batchHandlers({ pool }: HandlerDeps): HandlerMap {
  return {
    getBatch: async (request) => {
      const { project_id: projectId, batch_id: batchId } = request.params;
      const found = await findBatch(pool, projectId, batchId);
      if (!found) throw problems.notFound(`No batch ${batchId} in project ${projectId}.`);
      return toBatch(found.batch, found.errors);
    },
    listBatches: async (request) => {
      const { project_id: projectId } = request.params;
      const { limit = 50, offset = 0 } = request.query;
      const page = await listBatches(pool, projectId, limit, offset);
      return { data: page.rows.map((b) => toBatch(b, [])), total: page.total, limit, offset };
    },
  };
}
