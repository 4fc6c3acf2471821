import type { Pool } from '@alder/db';
import { escapeUnstorable, problems } from '@alder/http';
import type { Logger } from '@alder/logger';
import { abortBatch, completeBatch, openBatch, reportProgress, type BatchFile, type BatchRowError } from './batches.repository';
import { batchCounts, recordLandedBatch } from './batch-landing';
import { readItemLine, type LineProblem } from './item-line';
import { applyOverlapToBatch, createStreamStaging, lockProject, readIngestSettings, type NewItem, type IngestSettings } from './items.repository';
import { splitLines } from './ndjson-lines';
import { ChunkLander, StreamChunk } from './stream-chunks';

/** The longest line read: an item's text may be 200,000 characters (up to 800 KB of UTF-8) plus meta. */
export const MAX_LINE_BYTES = 4 * 2 ** 20;
/** Lines between two progress reports on the batch row. */
const PROGRESS_EVERY = 10_000;
/** Lines read between two turns given to the event loop. */
const YIELD_EVERY = 256;
/** Refused lines a batch lists (it counts them all). */
const MAX_LISTED = 1000;

/** A row parsed and checked elsewhere (a CSV record, a mapped JSONL line), numbered by its line in the file. */
export type ParsedRow = { line: number; item: NewItem } | { line: number; problems: LineProblem[] };

export interface StreamOutcome {
  batchId: string;
  counts: ReturnType<typeof batchCounts>;
  errors: BatchRowError[];
}

/** Why a stream was cut short, as the batch records it. */
function abortReason(error: unknown): string {
  const e = error as { code?: string; kind?: string; detail?: string; message?: string };
  if (e.code === 'ERR_STREAM_PREMATURE_CLOSE' || e.code === 'ECONNRESET' || e.message === 'aborted') return 'the client went away before the end of the stream';
  // A problem's detail may quote what the client sent (a field's name): stored escaped.
  if (e.kind === 'payload-too-large' || e.kind === 'malformed-request' || e.kind === 'validation' || e.kind === 'labels-changed') return escapeUnstorable(e.detail ?? e.kind);
  return 'the server failed while reading the stream';
}

const sameLabels = (a: readonly string[], b: readonly string[]) => a.length === b.length && a.every((label, i) => label === b[i]);

/**
 * An NDJSON stream of items into the project, as one batch: its row is written first (status
 * receiving, the counts growing every 10,000 lines), each line is read and checked as it arrives,
 * and the good lines land in chunks (INGEST_CHUNK_ROWS, stream-chunks.ts) while the next chunk is read,
 * all in the stream's one transaction, which commits with the batch's counts at the end. The
 * request is read no faster than Postgres lands it: flat memory, whatever the size. Bad lines are
 * refused one by one (counted, up to 1000 listed); a stream cut short lands nothing and its batch
 * is aborted with the last line read whole. The lines are checked against the project's settings
 * as they were when the stream began; the project's row is locked only for the last step (its
 * counters and events), so annotators' submits are not held up while the stream is read. Labels
 * can change only while a project has no items: a stream into such a project whose labels
 * changed meanwhile is refused whole (409, nothing landed); a changed overlap is applied to its
 * new items.
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
    /** Lines landed together (INGEST_CHUNK_ROWS). */
    chunkRows: number;
  },
): Promise<StreamOutcome> {
  const { pool, log } = deps;
  const { projectId } = input;
  const project = await readIngestSettings(pool, projectId);
  if (!project) throw problems.notFound(`No project ${projectId}.`);
  const source = input.file ? 'file' : 'ndjson';
  const batchId = await openBatch(pool, { projectId, source, userId: input.actor?.userId ?? null, keyId: input.actor?.keyId ?? null, file: input.file });
  const known = new Set(project.labels);
  const errors: BatchRowError[] = [];
  let received = 0;
  let rejected = 0;
  let lastLine = 0;
  // A pointer names the client's own keys, a reason may quote its values: a NUL or a lone
  // surrogate among them is written escaped, so the batch's record can be stored (and answers the same).
  const listError = (line: number, pointer: string, reason: string) => {
    if (errors.length < MAX_LISTED) errors.push({ line, pointer: escapeUnstorable(pointer), reason: escapeUnstorable(reason) });
  };
  const refuse = (line: number, pointer: string, reason: string) => {
    rejected++;
    listError(line, pointer, reason);
  };
  const client = await pool.connect();
  const lander = new ChunkLander(client, { projectId, batchId, apiKeyId: input.actor?.keyId ?? null, onResend: project.on_resend, onDuplicateText: project.on_duplicate_text, overlap: project.overlap_annotators > 1 }, refuse);
  try {
    await client.query('BEGIN');
    await createStreamStaging(client);
    let chunk = new StreamChunk(input.chunkRows, { projectId, batchId });
    let sinceYield = 0;
    for await (const read of input.rows ? input.rows(known) : splitLines(input.body!, MAX_LINE_BYTES)) {
      // A body read from its buffer never leaves the microtask queue; the chunk being copied to
      // Postgres meanwhile needs the event loop to write, so it gets a turn every few hundred lines.
      if (++sinceYield === YIELD_EVERY) {
        sinceYield = 0;
        await new Promise((resolve) => setImmediate(resolve));
      }
      const parsed = 'tooLong' in read ? { problems: [{ pointer: '', reason: `is longer than ${MAX_LINE_BYTES} bytes` }] } : 'bytes' in read ? readItemLine(read.bytes, known) : read;
      lastLine = read.line;
      if (parsed === null) continue;
      received++;
      if ('problems' in parsed) {
        rejected++;
        for (const p of parsed.problems) listError(read.line, p.pointer, p.reason);
      } else {
        // A later line with an earlier line's external_id is refused, as in a JSON batch: here
        // within the chunk, by the landing across chunks.
        const first = chunk.lineWith(parsed.item.external_id);
        if (first !== undefined) refuse(read.line, '/external_id', `repeats the external_id of line ${first}`);
        else chunk.add(read.line, parsed.item);
        if (chunk.full) {
          await lander.land(chunk);
          chunk = new StreamChunk(input.chunkRows, { projectId, batchId });
        }
      }
      if (received % PROGRESS_EVERY === 0) await reportProgress(pool, batchId, received, rejected);
    }
    await lander.land(chunk);
    const landed = await lander.finish();
    const locked = await lockProject(client, projectId);
    if (!locked) throw problems.notFound(`No project ${projectId}.`);
    checkSettingsKept(project, locked);
    if (locked.overlap_annotators !== project.overlap_annotators || locked.overlap_fraction !== project.overlap_fraction) {
      await applyOverlapToBatch(client, projectId, batchId);
    }
    errors.sort((a, b) => a.line - b.line);
    await recordLandedBatch(client, { projectId, batchId, actor: input.actor, source }, { ...landed, received, rejected });
    const counts = batchCounts({ ...landed, received, rejected });
    await completeBatch(
      client,
      batchId,
      {
        received,
        accepted: counts.inserted,
        duplicate: counts.duplicates,
        updated: counts.updated,
        skippedChanges: counts.skipped_changes,
        duplicateTexts: counts.duplicate_texts,
        rejected,
        labelsImported: counts.labels_imported,
      },
      errors,
    );
    await client.query('COMMIT');
    log.info({ projectId, batchId, source, received, inserted: landed.inserted, updated: landed.updated, rejected, chunks: lander.ways }, 'ndjson stream ingested');
    return { batchId, counts, errors };
  } catch (error) {
    // A chunk still landing holds the connection: it ends first, then all is rolled back.
    await lander.settle();
    await client.query('ROLLBACK').catch(() => undefined);
    const reason = abortReason(error);
    await abortBatch(pool, batchId, { reason, stoppedAtLine: lastLine, received, rejected }).catch((e: unknown) => log.error({ err: e, batchId }, 'could not mark the batch aborted'));
    log.warn({ projectId, batchId, source, stoppedAtLine: lastLine, reason }, 'ndjson stream aborted; nothing landed');
    throw error;
  } finally {
    client.release();
  }
}

/** The labels a stream's lines were checked against are still the project's (see ingestNdjsonStream). */
function checkSettingsKept(read: IngestSettings, locked: IngestSettings): void {
  if (!sameLabels(read.labels, locked.labels)) {
    throw problems.conflict('labels-changed', "The project's labels changed while the stream was read; nothing landed. Send the stream again.");
  }
}
