import { createWriteStream } from 'node:fs';
import { rename, rm } from 'node:fs/promises';
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { AlderError } from '@alder/client';
import { CliUsageError, EXIT, type CliEnv, type CliIo } from './cli-io';
import { connect, type ConnectionFlags } from './connection';
import { reportFailure } from './failure';

export interface ExportFlags extends ConnectionFlags {
  project: string;
  format?: string;
  status?: string;
  out?: string;
}

/**
 * `alder export --project ID`: the labels with their provenance, streamed to stdout or --out.
 * A file is written beside its name and renamed at the end, so an export cut short never
 * looks like a whole one.
 */
export async function runExport(flags: ExportFlags, env: CliEnv, io: CliIo & { stdoutStream?: NodeJS.WritableStream }): Promise<number> {
  const partial = flags.out ? `${flags.out}.partial` : null;
  try {
    const format = flags.format ?? 'jsonl';
    if (format !== 'jsonl' && format !== 'csv') throw new CliUsageError(`--format must be jsonl or csv, not ${JSON.stringify(format)}`);
    const status = flags.status ?? 'resolved';
    if (status !== 'resolved' && status !== 'all') throw new CliUsageError(`--status must be resolved or all, not ${JSON.stringify(status)}`);
    const stream = await connect(flags, env, io).exportLabels(flags.project, { format, status });
    const source = Readable.fromWeb(stream as import('node:stream/web').ReadableStream<Uint8Array>);
    if (partial) {
      await pipeline(source, createWriteStream(partial));
      await rename(partial, flags.out!);
      io.stderr.write(`wrote ${flags.out}\n`);
    } else {
      const out = io.stdoutStream ?? new Writable({ write: (chunk: Buffer, _e, done) => (io.stdout.write(chunk.toString()), done()) });
      await pipeline(source, out, { end: io.stdoutStream === undefined });
    }
    return EXIT.ok;
  } catch (error) {
    if (partial) await rm(partial, { force: true });
    const e = error as NodeJS.ErrnoException;
    // The file could not be written (a missing folder, no permission): the command line's fault.
    if (e?.syscall && e.path) {
      io.stderr.write(`alder export: cannot write ${e.path} (${e.code})\n`);
      return EXIT.usage;
    }
    if (!(error instanceof AlderError) && !(error instanceof CliUsageError)) {
      io.stderr.write(`alder export: the export was cut short (${e?.message ?? String(error)}); ${flags.out ? `${flags.out} was not written` : 'what it printed is incomplete'}\n`);
      return EXIT.server;
    }
    return reportFailure('export', error, io);
  }
}
