import type { PoolClient } from '@alder/db';
import { createStreamStaging, readIngestSettings, type InsertResult, type NewItem, type OnDuplicateText, type OnResend } from './items.repository';
import { ChunkLander, StreamChunk, type ChunkTotals } from './stream-chunks';

/** What a batch's items land by: the batch, its sender's key, and the project's settings. */
export interface LandingBatch {
  projectId: string;
  batchId: string;
  apiKeyId: string | null;
  onResend: OnResend;
  onDuplicateText: OnDuplicateText;
  overlap: boolean;
}

/**
 * A batch's items (checked whole already: no two with one external_id) landed in the caller's
 * transaction the way a stream's chunk lands (stream-chunks.ts): copied straight into items, or
 * staged when a row meets a stored item, re-sends and repeated texts sorted out by the project's
 * settings. Each item's place is its index in `items`.
 */
export async function landItems(client: PoolClient, batch: LandingBatch, items: readonly NewItem[]): Promise<ChunkTotals> {
  await createStreamStaging(client);
  // Whole batches are refused before they land; a row refused here would be a bug.
  const lander = new ChunkLander(client, batch, (line, pointer, reason) => {
    throw new Error(`row ${line} ${pointer} refused while landing: ${reason}`);
  });
  const chunk = new StreamChunk(items.length + 1, batch);
  items.forEach((item, index) => chunk.add(index, item));
  await lander.land(chunk);
  return lander.finish();
}

/**
 * Items into a project outside any ingest batch's record (fixtures, tests, the simulator): landed
 * as a batch of their own under the project's settings. Call inside a transaction.
 */
export async function insertItems(client: PoolClient, projectId: string, apiKeyId: string | null, items: NewItem[]): Promise<InsertResult> {
  const project = await readIngestSettings(client, projectId);
  if (!project) throw new Error(`insertItems: no project ${projectId}`);
  const landed = await landItems(
    client,
    { projectId, batchId: crypto.randomUUID(), apiKeyId, onResend: project.on_resend, onDuplicateText: project.on_duplicate_text, overlap: project.overlap_annotators > 1 },
    items,
  );
  return landed;
}
