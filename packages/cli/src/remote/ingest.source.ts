import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';
import { Readable } from 'node:stream';
import { parse } from 'csv-parse';
import { mapCsvRow, mapJsonlObject, resolveCsvColumns, type FieldMap, type MappingSyntax } from '@alder/item-mapping';
import { CliUsageError } from './cli-io';
import type { LineMap } from './line-map';

export type IngestFormat = 'jsonl' | 'csv';

/** A file the command can not read or parse (exit 2): the message names the file and line. */
export class InputError extends CliUsageError {
  override name = 'InputError';
}

/** How the command line maps a field, for the hints of the mapping's messages. */
export const CSV_MAP_SYNTAX: MappingSyntax = (field, source) => `--csv-map ${field}=${source}`;

export interface SourceSpec {
  /** A file path, or '-' for standard input. */
  path: string;
  format: IngestFormat;
  /** JSONL: null sends the lines as they are, else the map over keys named like the fields; CSV: over columns named so. */
  map: FieldMap | null;
  stdin: NodeJS.ReadableStream;
  /** Told the size of every chunk read, for the progress bar. */
  onBytes?: (bytes: number) => void;
  /** CSV: filled with the file line of each row, for the server's refusals. */
  lines?: LineMap;
}

/** Text yielded in pieces of about this size: one write per line would cost more than the line. */
const PIECE = 1 << 16;

const name = (path: string) => (path === '-' ? 'standard input' : path);

async function* fileBytes(spec: SourceSpec): AsyncGenerator<Buffer> {
  const stream = spec.path === '-' ? spec.stdin : createReadStream(spec.path);
  try {
    for await (const chunk of stream) {
      const bytes = typeof chunk === 'string' ? Buffer.from(chunk) : (chunk as Buffer);
      spec.onBytes?.(bytes.length);
      yield bytes;
    }
  } catch (error) {
    const e = error as NodeJS.ErrnoException;
    throw new InputError(`cannot read ${name(spec.path)} (${e.code ?? e.message})`);
  } finally {
    // An upload ended early (Ctrl-C, an error answer) stops reading: an open standard input
    // would keep the process alive.
    (stream as NodeJS.ReadableStream & { destroy?(): void }).destroy?.();
  }
}

/** Lines as they are (the server numbers them as the file does), or mapped one for one. */
async function* jsonlLines(spec: SourceSpec): AsyncGenerator<Buffer | string> {
  if (!spec.map) {
    yield* fileBytes(spec);
    return;
  }
  const map = spec.map;
  let piece = '';
  let n = 0;
  for await (const line of createInterface({ input: Readable.from(fileBytes(spec)), crlfDelay: Infinity })) {
    n++;
    let out = line;
    if (line.trim()) {
      try {
        const parsed: unknown = JSON.parse(line);
        // Anything but an object goes as it is, for the server to refuse with its line number.
        if (parsed && typeof parsed === 'object' && !Array.isArray(parsed)) out = JSON.stringify(mapJsonlObject(parsed as Record<string, unknown>, map, n));
      } catch {
        // Not JSON: sent unchanged, refused by the server at this line.
      }
    }
    piece += `${out}\n`;
    if (piece.length >= PIECE) {
      yield piece;
      piece = '';
    }
  }
  if (piece) yield piece;
}

/** CSV rows (a header first) as item lines, converted as they are read. */
async function* csvLines(spec: SourceSpec): AsyncGenerator<string> {
  let columns: FieldMap | null = null;
  let headerError: Error | null = null;
  const parser = Readable.from(fileBytes(spec)).pipe(
    parse({
      bom: true,
      info: true,
      skip_empty_lines: true,
      // A short row becomes an item without the missing fields, refused by the server by row.
      relax_column_count: true,
      columns: (header: string[]) => {
        try {
          columns = resolveCsvColumns(header, spec.map, CSV_MAP_SYNTAX);
        } catch (error) {
          headerError = new InputError((error as Error).message);
          throw error;
        }
        return header;
      },
    }),
  );
  let piece = '';
  let n = 0;
  try {
    for await (const { record, info } of parser as AsyncIterable<{ record: Record<string, string>; info: { lines: number } }>) {
      n++;
      spec.lines?.record(n, info.lines);
      // A meta cell that is not a JSON object goes as its text, for the server to refuse at /meta.
      piece += `${JSON.stringify(mapCsvRow(record, columns!, n).item)}\n`;
      if (piece.length >= PIECE) {
        yield piece;
        piece = '';
      }
    }
  } catch (error) {
    if (headerError) throw headerError;
    if (error instanceof InputError) throw error;
    throw new InputError(`${name(spec.path)} is not valid CSV: ${(error as Error).message}`);
  }
  if (piece) yield piece;
}

/** The file as NDJSON item lines, read as the upload asks for them (flat memory). */
export function ndjsonFrom(spec: SourceSpec): AsyncIterable<Buffer | string> {
  return spec.format === 'csv' ? csvLines(spec) : jsonlLines(spec);
}

/** The header of a CSV file, read before anything is sent, so a wrong --csv-map opens no batch. */
export async function readCsvHeader(path: string): Promise<string[]> {
  const parser = createReadStream(path).pipe(parse({ bom: true, to_line: 1, relax_column_count: true }));
  try {
    for await (const row of parser as AsyncIterable<string[]>) return row;
  } catch (error) {
    const e = error as NodeJS.ErrnoException;
    throw new InputError(e.syscall ? `cannot read ${path} (${e.code})` : `${path} is not valid CSV: ${e.message}`);
  }
  throw new InputError(`${path} is empty: a CSV file needs a header row`);
}
