import { stat } from 'node:fs/promises';
import { extname } from 'node:path';
import cliProgress from 'cli-progress';
import type { Schemas } from '@alder/client';
import { CliUsageError, EXIT, type CliEnv, type CliIo } from './cli-io';
import { connect, type ConnectionFlags } from './connection';
import { reportFailure } from './failure';
import { FieldMapError, LINE_NUMBER, parseFieldMap, resolveCsvColumns } from '@alder/item-mapping';
import { CSV_MAP_SYNTAX, ndjsonFrom, readCsvHeader, type IngestFormat } from './ingest.source';
import { LineMap } from './line-map';

export interface IngestFlags extends ConnectionFlags {
  project: string;
  format?: string;
  map?: string;
  csvMap?: string;
  json?: boolean;
}

export interface IngestContext {
  env: CliEnv;
  io: CliIo;
  stdin: NodeJS.ReadableStream;
  /** Aborted by Ctrl-C: the upload stops, and the server lands nothing of it. */
  signal?: AbortSignal;
}

/** Refusals shown in the terminal; the batch resource keeps up to 1000. */
const SHOWN = 10;

function formatOf(path: string, flag: string | undefined): IngestFormat {
  if (flag !== undefined) {
    if (flag !== 'jsonl' && flag !== 'csv') throw new CliUsageError(`--format must be jsonl or csv, not ${JSON.stringify(flag)}`);
    return flag;
  }
  const ext = extname(path).toLowerCase();
  if (ext === '.csv') return 'csv';
  if (ext === '.jsonl' || ext === '.ndjson' || path === '-') return 'jsonl';
  throw new CliUsageError(`cannot tell the format of ${path} from its name: pass --format jsonl or --format csv`);
}

/** A mapping's refusal is the command line's mistake (exit 2, said as it is). */
function asUsage<T>(check: () => T): T {
  try {
    return check();
  } catch (error) {
    throw error instanceof FieldMapError ? new CliUsageError(error.message) : error;
  }
}

function progressBar(io: CliIo, total: number | null) {
  // Only for a person watching: a bar in a log or a pipe is noise.
  if (!io.stderr.isTTY || !total) return null;
  const bar = new cliProgress.SingleBar(
    { stream: io.stderr as NodeJS.WritableStream, format: 'ingest {bar} {percentage}% | {done} of {size} MB | {eta_formatted} left', hideCursor: true, clearOnComplete: true, etaBuffer: 40 },
    cliProgress.Presets.shades_classic,
  );
  const mb = (n: number) => (n / 2 ** 20).toFixed(1);
  let read = 0;
  bar.start(total, 0, { done: mb(0), size: mb(total) });
  return {
    restart: () => {
      read = 0;
      bar.update(0, { done: mb(0) });
    },
    add: (n: number) => {
      read += n;
      bar.update(read, { done: mb(read) });
    },
    stop: () => bar.stop(),
  };
}

/**
 * `alder ingest FILE --project ID`: the file streamed as NDJSON (CSV rows converted as they are
 * read), gzip-compressed, into one batch; then its counts and the first refused lines. Rerunning
 * after an interruption is safe: a cut stream lands nothing, and what landed before is counted
 * as duplicates. Exit 0 when every line landed (or was there already), 1 when some were refused.
 */
export async function runIngest(path: string, flags: IngestFlags, ctx: IngestContext): Promise<number> {
  const { io } = ctx;
  let bar: ReturnType<typeof progressBar> = null;
  try {
    const format = formatOf(path, flags.format);
    if (flags.map && flags.csvMap) throw new CliUsageError('give --map or --csv-map, not both (they are the same option)');
    const mapSpec = flags.map ?? flags.csvMap;
    const map = mapSpec ? asUsage(() => parseFieldMap(mapSpec, flags.map ? '--map' : '--csv-map')) : null;
    let size: number | null = null;
    if (path !== '-') {
      const info = await stat(path).catch((e: NodeJS.ErrnoException) => {
        throw new CliUsageError(`cannot read ${path} (${e.code})`);
      });
      if (!info.isFile()) throw new CliUsageError(`${path} is not a file`);
      size = info.size;
      if (format === 'csv') {
        const header = await readCsvHeader(path);
        asUsage(() => resolveCsvColumns(header, map, CSV_MAP_SYNTAX));
      }
    }
    const client = connect(flags, ctx.env, io);

    const lines = new LineMap();
    bar = progressBar(io, size);
    const result = await client.ingestStream(
      flags.project,
      () => {
        bar?.restart();
        return ndjsonFrom({ path, format, map, stdin: ctx.stdin, onBytes: bar?.add, lines });
      },
      { signal: ctx.signal },
    );
    bar?.stop();
    return report(path, format, flags, result, lines, io);
  } catch (error) {
    bar?.stop();
    // The source's own failure (an unreadable file, bad CSV) reaches here as the upload's cause.
    const cause = (error as { cause?: unknown })?.cause;
    const input = error instanceof CliUsageError ? error : cause instanceof CliUsageError ? cause : null;
    if (input) {
      // Found while streaming: the upload was cut, so its batch is aborted.
      const during = input !== error;
      io.stderr.write(`alder ingest: ${input.message}${during ? '; nothing of this run landed' : ''}\n`);
      return EXIT.usage;
    }
    if (ctx.signal?.aborted) {
      io.stderr.write(
        'alder ingest: interrupted; nothing of this run landed (its batch is aborted). Run the same command again to resume: ' +
          'items that landed before count as duplicates, never twice.\n',
      );
      return EXIT.interrupted;
    }
    return reportFailure('ingest', error, io);
  } finally {
    // A reader waiting on standard input for bytes that never come would keep the process alive.
    if (path === '-') (ctx.stdin as NodeJS.ReadableStream & { destroy?(): void }).destroy?.();
  }
}

function report(path: string, format: IngestFormat, flags: IngestFlags, result: Schemas['IngestResult'], lines: LineMap, io: CliIo): number {
  if (flags.json) io.stdout.write(`${JSON.stringify(result)}\n`);
  else {
    io.stdout.write(
      `batch ${result.batch_id}: ${result.received} read, ${result.inserted} new, ${result.duplicates} already in the project, ` +
        `${result.rejected} refused, ${result.labels_imported} labels imported\n`,
    );
    const where = (line: number) => (format === 'csv' ? `row ${line} (line ${lines.lineOf(line)})` : `line ${line}`);
    for (const e of result.errors.slice(0, SHOWN)) io.stdout.write(`  ${where(e.line)}${e.pointer ? ` ${e.pointer}` : ''}: ${e.reason}\n`);
    if (result.errors.length > SHOWN) {
      io.stdout.write(`  ... and more (GET /v1/projects/${flags.project}/batches/${result.batch_id} lists up to 1000)\n`);
    }
  }
  if (!result.rejected) return EXIT.ok;
  const noIds = result.errors.some((e) => e.pointer === '/external_id' || e.reason.includes("'external_id'")) && !flags.map && !flags.csvMap;
  io.stderr.write(
    `alder ingest: ${result.rejected} of ${result.received} ${format === 'csv' ? 'rows' : 'lines'} of ${path === '-' ? 'standard input' : path} refused, ` +
      `the other ${result.received - result.rejected} landed; fix them and run the same command again (what landed counts as duplicates)\n` +
      (noIds ? `hint: items need an external_id; --map external_id=${LINE_NUMBER} numbers them by line\n` : ''),
  );
  return EXIT.refused;
}
