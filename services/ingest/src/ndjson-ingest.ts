import { once } from 'node:events';
import { finished } from 'node:stream/promises';
import type { Pool } from '@alder/db';
import { problems } from '@alder/http';
import type { Logger } from '@alder/logger';
import { abortBatch, completeBatch, openBatch, reportProgress, type BatchFile, type BatchRowError } from './batches.repository';
import { landStagedItems } from './batch-landing';
import { readItemLine, type LineProblem } from './item-line';
import { changedResends, createStaging, lockProject, readProjectLabels, removeRepeatedIds, removeStaged, removeUnknownLabels, stagingCopy, stagingLine, type NewItem } from './items.repository';
import { splitLines } from './ndjson-lines';

/** The longest line read: an item's text may be 200,000 characters (up to 800 KB of UTF-8) plus meta. */
export const MAX_LINE_BYTES = 4 * 2 ** 20;
/** Lines between two progress reports on the batch row. */
const PROGRESS_EVERY = 10_000;
/** Staging lines gathered into one COPY write. */
const WRITE_BYTES = 1 << 16;

/** A row parsed and checked elsewhere (a CSV record, a mapped JSONL line), numbered by its line in the file. */
export type ParsedRow = { line: number; item: NewItem } | { line: number; problems: LineProblem[] };

export interface StreamOutcome {
  batchId: string;
  received: number;
  inserted: number;
  duplicates: number;
  updated: number;
  skippedChanges: number;
  rejected: number;
  labelsImported: number;
  errors: BatchRowError[];
}

/** Why a stream was cut short, as the batch records it. */
function abortReason(error: unknown): string {
  const e = error as { code?: string; kind?: string; detail?: string; message?: string };
  if (e.code === 'ERR_STREAM_PREMATURE_CLOSE' || e.code === 'ECONNRESET' || e.message === 'aborted') return 'the client went away before the end of the stream';
  if (e.kind === 'payload-too-large' || e.kind === 'malformed-request' || e.kind === 'validation') return e.detail ?? e.kind;
  return 'the server failed while reading the stream';
}

/**
 * An NDJSON stream of items into the project, as one batch: its row is written first (status
 * receiving, the counts growing every 10,000 lines), each line is read, checked and staged with
 * COPY as it arrives (the request is read no faster than Postgres takes the rows: flat memory,
 * whatever the size), and at the end the staged items land in the stream's one transaction with
 * the batch's counts. Bad lines are refused one by one (counted, up to 1000 listed); a stream cut
 * short lands nothing and its batch is aborted with the last line read whole. The project's row
 * is locked only for the landing, so annotators' submits are not held up while the stream is read.
 */
export async function ingestNdjsonStream(
  deps: { pool: Pool; log: Logger },
  input: {
    projectId: string;
    actor: { userId: string; keyId: string } | null;
    /** NDJSON bytes; ignored when `rows` is given. */
    body?: AsyncIterable<Buffer | string>;
    /** Rows already parsed and checked against the project's labels, instead of the lines of `body` (file import). */
    rows?: (labels: ReadonlySet<string>) => AsyncIterable<ParsedRow>;
    /** A file import: the batch is of source `file`, naming the file. */
    file?: BatchFile;
  },
): Promise<StreamOutcome> {
  const { pool, log } = deps;
  const { projectId } = input;
  const labels = await readProjectLabels(pool, projectId);
  if (!labels) throw problems.notFound(`No project ${projectId}.`);
  const source = input.file ? 'file' : 'ndjson';
  const batchId = await openBatch(pool, { projectId, source, userId: input.actor?.userId ?? null, keyId: input.actor?.keyId ?? null, file: input.file });
  const known = new Set(labels);
  const errors: BatchRowError[] = [];
  let received = 0;
  let rejected = 0;
  let lastLine = 0;
  const client = await pool.connect();
  let copy: ReturnType<typeof stagingCopy> | null = null;
  let copied: Promise<void> | null = null;
  try {
    await client.query('BEGIN');
    await createStaging(client);
    copy = stagingCopy(client);
    copied = finished(copy);
    // The COPY's own failure must not go unheard while the body is being read.
    copied.catch(() => undefined);
    let chunk = '';
    const flush = async () => {
      if (!chunk) return;
      const ok = copy!.write(chunk);
      chunk = '';
      if (!ok) await Promise.race([once(copy!, 'drain'), copied]);
    };
    for await (const read of input.rows ? input.rows(known) : splitLines(input.body!, MAX_LINE_BYTES)) {
      const parsed = 'tooLong' in read ? { problems: [{ pointer: '', reason: `is longer than ${MAX_LINE_BYTES} bytes` }] } : 'bytes' in read ? readItemLine(read.bytes, known) : read;
      lastLine = read.line;
      if (parsed === null) continue;
      received++;
      if ('problems' in parsed) {
        rejected++;
        for (const p of parsed.problems) if (errors.length < 1000) errors.push({ line: read.line, pointer: p.pointer, reason: p.reason });
      } else {
        chunk += stagingLine(read.line, parsed.item);
        if (chunk.length >= WRITE_BYTES) await flush();
      }
      if (received % PROGRESS_EVERY === 0) await reportProgress(pool, batchId, received, rejected);
    }
    await flush();
    copy.end();
    await copied;
    copy = null;
    // A later line with an earlier line's external_id is refused, as in a JSON batch.
    for (const repeat of await removeRepeatedIds(client)) {
      rejected++;
      if (errors.length < 1000) errors.push({ line: repeat.ord, pointer: '/external_id', reason: `repeats the external_id of line ${repeat.first}` });
    }
    // Locked now, for the landing alone; labels are checked again against the locked row (a
    // project without items may have changed them while the stream was read).
    const locked = await lockProject(client, projectId);
    if (!locked) throw problems.notFound(`No project ${projectId}.`);
    for (const ord of await removeUnknownLabels(client, locked.labels)) {
      rejected++;
      if (errors.length < 1000) errors.push({ line: ord, pointer: '/label', reason: "is no longer one of the project's labels" });
    }
    if (locked.on_resend === 'reject') {
      const changed = await changedResends(client, projectId);
      await removeStaged(client, changed);
      for (const ord of changed) {
        rejected++;
        if (errors.length < 1000) errors.push({ line: ord, pointer: '/text', reason: 'differs from the stored item of this external_id (text or meta); the project refuses changes (on_resend: reject)' });
      }
    }
    errors.sort((a, b) => a.line - b.line);
    const result = await landStagedItems(client, { projectId, batchId, actor: input.actor, received, rejected, source, onResend: locked.on_resend });
    const counts = {
      received,
      accepted: result.inserted,
      duplicate: received - rejected - result.inserted - result.updated,
      updated: result.updated,
      skippedChanges: result.skippedChanges,
      rejected,
      labelsImported: result.labelsImported,
    };
    await completeBatch(client, batchId, counts, errors);
    await client.query('COMMIT');
    log.info({ projectId, batchId, source, received, inserted: result.inserted, updated: result.updated, rejected }, 'ndjson stream ingested');
    return {
      batchId,
      received,
      inserted: result.inserted,
      duplicates: counts.duplicate,
      updated: result.updated,
      skippedChanges: result.skippedChanges,
      rejected,
      labelsImported: result.labelsImported,
      errors,
    };
  } catch (error) {
    // A COPY still open holds the connection: it is failed first (CopyFail), then rolled back.
    if (copy) {
      (copy as unknown as { destroy(error: Error): void }).destroy(error instanceof Error ? error : new Error(String(error)));
      await copied?.catch(() => undefined);
    }
    await client.query('ROLLBACK').catch(() => undefined);
    const reason = abortReason(error);
    await abortBatch(pool, batchId, { reason, stoppedAtLine: lastLine, received, rejected }).catch((e: unknown) => log.error({ err: e, batchId }, 'could not mark the batch aborted'));
    log.warn({ projectId, batchId, source, stoppedAtLine: lastLine, reason }, 'ndjson stream aborted; nothing landed');
    throw error;
  } finally {
    client.release();
  }
}
