import type { Schemas } from '@alder/client';
import { CliUsageError, EXIT, type CliEnv, type CliIo } from './cli-io';
import { connect, type ConnectionFlags } from './connection';
import { reportFailure } from './failure';
import { formatTable, shortTime } from './table';

export interface BatchesFlags extends ConnectionFlags {
  project: string;
  limit?: string;
  json?: boolean;
}

/** The batches listed when --limit does not say: the newest, a screenful. */
const DEFAULT_LIMIT = 50;
/** The most the API gives in one page. */
const PAGE = 200;
/** The problems a batch keeps (the server's cap). */
const MAX_KEPT_ERRORS = 1000;

type Batch = Schemas['Batch'];

/** Where a batch came from: its source, and a file import's file. */
function origin(batch: Batch): string {
  if (!batch.file) return batch.source;
  return `file ${batch.file.format}${batch.file.name ? ` ${batch.file.name}` : ''}`;
}

function limitOf(flag: string | undefined): number {
  if (flag === undefined) return DEFAULT_LIMIT;
  const limit = Number(flag);
  if (!Number.isInteger(limit) || limit < 1) throw new CliUsageError(`--limit must be a whole number of at least 1, not ${JSON.stringify(flag)}`);
  return limit;
}

/**
 * `alder batches --project ID`: the project's batches, newest first (every way in: JSON
 * batches, streams, files, webhooks), as a table or JSON lines; `alder batches --project ID
 * BATCH_ID`: one batch, its counts and the rows it refused (up to the 1000 it keeps).
 */
export async function runBatches(batchId: string | undefined, flags: BatchesFlags, env: CliEnv, io: CliIo): Promise<number> {
  try {
    const limit = limitOf(flags.limit);
    const client = connect(flags, env, io);
    if (batchId !== undefined) return showBatch(await client.getBatch(flags.project, batchId), flags, io);
    const batches: Batch[] = [];
    let total = 0;
    for (let offset = 0; batches.length < limit; offset += PAGE) {
      const page = await client.listBatches(flags.project, { limit: Math.min(PAGE, limit - batches.length), offset });
      batches.push(...page.data);
      total = page.total;
      if (!page.data.length || batches.length >= total) break;
    }
    if (flags.json) {
      for (const b of batches) io.stdout.write(`${JSON.stringify(b)}\n`);
      return EXIT.ok;
    }
    if (!batches.length) {
      io.stderr.write(`no batches in project ${flags.project} (alder ingest FILE --project ${flags.project} makes one)\n`);
      return EXIT.ok;
    }
    io.stdout.write(
      formatTable(
        ['ID', 'SOURCE', 'STATUS', 'READ', 'NEW', 'DUPLICATES', 'UPDATED', 'REFUSED', 'CREATED'],
        batches.map((b) => [b.batch_id, origin(b), b.status, String(b.received), String(b.inserted), String(b.duplicates), String(b.updated), String(b.rejected), shortTime(b.created_at)]),
      ),
    );
    if (total > batches.length) io.stderr.write(`the newest ${batches.length} of ${total} batches (--limit N shows more)\n`);
    return EXIT.ok;
  } catch (error) {
    return reportFailure('batches', error, io);
  }
}

function showBatch(batch: Batch, flags: BatchesFlags, io: CliIo): number {
  if (flags.json) {
    io.stdout.write(`${JSON.stringify(batch)}\n`);
    return EXIT.ok;
  }
  const rows: [string, string][] = [
    ['source', origin(batch)],
    ['status', batch.status],
    ['created', `${shortTime(batch.created_at)}${batch.created_by ? ` by user ${batch.created_by}` : ''}`],
    ['finished', shortTime(batch.finished_at)],
    ['read', String(batch.received)],
    ['new', String(batch.inserted)],
    ['duplicates', `${batch.duplicates}${batch.skipped_changes ? ` (${batch.skipped_changes} with another text or meta, left as they were)` : ''}`],
    ['updated', String(batch.updated)],
    ['repeated texts', `${batch.duplicate_texts}${batch.duplicate_texts ? ' (a text the project had under another id; see on_duplicate_text)' : ''}`],
    ['refused', String(batch.rejected)],
    ['labels imported', String(batch.labels_imported)],
  ];
  if (batch.status === 'aborted') rows.push(['aborted', `${batch.abort_reason ?? 'no reason recorded'}; stopped at line ${batch.stopped_at_line ?? 0}, nothing of it landed`]);
  const width = Math.max(...rows.map(([name]) => name.length));
  io.stdout.write(`batch ${batch.batch_id}\n${rows.map(([name, value]) => `  ${name.padEnd(width)}  ${value}`).join('\n')}\n`);
  if (batch.errors.length) {
    // A batch keeps the first 1000 problems; `refused` counts every row.
    const kept = batch.errors.length >= MAX_KEPT_ERRORS ? ` (the first ${MAX_KEPT_ERRORS} problems kept)` : '';
    io.stdout.write(`refused rows${kept}:\n`);
    for (const e of batch.errors) io.stdout.write(`  line ${e.line}${e.pointer ? ` ${e.pointer}` : ''}: ${e.reason}\n`);
  }
  return EXIT.ok;
}
