import type { Writable } from 'node:stream';
import { parse, type Parser } from 'csv-parse';
import { problems } from '@alder/http';
import { columnsRead, FieldMapError, ITEM_FIELDS, mapCsvRow, metaColumns, resolveCsvColumns, type CellProblem, type FieldMap, type MappingSyntax } from '@alder/item-mapping';
import { readItemValue } from './item-line';
import { nameSources } from './mapped-problems';
import { MAX_LINE_BYTES, type ParsedRow } from './ndjson-ingest';

/** The longest CSV record read, as the longest NDJSON line: an item's text plus the other cells. */
export const MAX_RECORD_BYTES = MAX_LINE_BYTES;

/** How a form maps a field, for the hints of the mapping's messages. */
const FORM_SYNTAX: MappingSyntax = (field, source) => `"mapping": {"${field}": "${source}"}`;

const utf8 = new TextDecoder('utf-8', { fatal: true });
const LF = 0x0a;

/** What csv-parse gives for each record with `info`: the cells as bytes, and the empty lines skipped so far. */
interface ParsedRecord {
  record: Buffer[];
  info: { empty_lines: number };
}

/** A record csv-parse could not read, and how many records it had given before it. */
interface Unreadable {
  error: Error & { code?: string; empty_lines?: number };
  after: number;
}

/** A file's rows, once its header is read and the mapping checked against it. */
export interface CsvRows {
  header: string[];
  /** Every row after the header, checked as an item against the project's labels. */
  rows(labels: ReadonlySet<string>): AsyncGenerator<ParsedRow>;
}

function headerProblem(detail: string, field?: string) {
  return problems.validation(detail, [{ path: field ? `body/mapping/${field}` : 'body/file', message: detail }]);
}

/** The physical lines a record spans: one, and one more for each line break in its (quoted) cells. */
function spanOf(record: Buffer[]): number {
  let span = 1;
  for (const cell of record) for (let at = cell.indexOf(LF); at !== -1; at = cell.indexOf(LF, at + 1)) span++;
  return span;
}

/**
 * A CSV file (a header row first) read as it arrives with csv-parse: cells kept as bytes, so a
 * cell of invalid UTF-8 is refused by its column instead of read with U+FFFD in it. The header is
 * read here, before any batch exists: an empty file or a mapping that does not fit the header is
 * a 422 that leaves nothing behind.
 *
 * csv-parse does not fail the stream on a bad record here (a failed stream drops the records it
 * had parsed ahead, and its own skipping loses what follows the bad one): quotes inside cells are
 * taken as they are, a row with the wrong number of cells is refused here, alone, and what it
 * still can not read is noted with its place among the records (`on_skip`) and acted on there: a
 * quote still open at the end refuses the last record; a record over 4 MiB (a quote never
 * closed, or a cell far over any item's size) fails the import (422, the batch aborted).
 */
export async function openCsvRows(bytes: AsyncIterable<Buffer>, mapping: FieldMap | null): Promise<CsvRows> {
  const unreadable: Unreadable[] = [];
  const parser = parse({
    encoding: null,
    bom: true,
    info: true,
    skip_empty_lines: true,
    relax_quotes: true,
    relax_column_count: true,
    max_record_size: MAX_RECORD_BYTES,
    skip_records_with_error: true,
    on_skip: (error) => {
      unreadable.push({ error: error as Unreadable['error'], after: (error as { records?: number }).records ?? 0 });
    },
  });
  void feed(bytes, parser, unreadable);
  const records = parser[Symbol.asyncIterator]() as AsyncIterator<ParsedRecord>;
  try {
    const first = await records.next();
    const failure = unreadable[0];
    if (failure?.after === 0 && !failure.error.code?.startsWith('CSV_')) throw failure.error;
    if (first.done || failure?.after === 0) {
      throw headerProblem(failure ? `The CSV header can not be read: ${failure.error.message}.` : 'The CSV file is empty: a file import needs a header row naming its columns first.');
    }
    let header: string[];
    try {
      header = first.value.record.map((cell) => utf8.decode(cell));
    } catch {
      throw headerProblem('The CSV header is not valid UTF-8.');
    }
    let columns: FieldMap;
    try {
      columns = resolveCsvColumns(header, mapping, FORM_SYNTAX);
    } catch (error) {
      if (!(error instanceof FieldMapError)) throw error;
      const mapped = error.field !== undefined && mapping !== null && Object.hasOwn(mapping, error.field);
      throw headerProblem(`The mapping does not fit the file: ${error.message}.`, mapped ? error.field : undefined);
    }
    const read = columnsRead(columns).map((name) => ({ name, index: header.indexOf(name), fields: fieldsFrom(name, columns) }));
    const context = { width: header.length, read, columns };
    return { header, rows: (labels) => rowsAfter(records, first.value, unreadable, { ...context, labels }) };
  } catch (error) {
    // Refused before its rows: the parser (and the file's bytes) are not read further.
    await records.return?.();
    throw error;
  }
}

/** Resolves when the stream can take more, or is gone. */
function drained(stream: Writable): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      stream.off('drain', done);
      stream.off('close', done);
      resolve();
    };
    stream.on('drain', done);
    stream.on('close', done);
  });
}

/**
 * Writes the bytes into the parser as it takes them. Their failure (the client gone, a gzip cap,
 * a form cut off) takes its place after the records parsed from the bytes before it, instead of
 * destroying the parser with them unread: the batch stops at the last row read, however the
 * bytes came. A parser destroyed by its reader (the import stopped) stops the reading.
 */
async function feed(bytes: AsyncIterable<Buffer>, parser: Parser, unreadable: Unreadable[]): Promise<void> {
  try {
    for await (const chunk of bytes) {
      if (parser.destroyed) return;
      if (!parser.write(chunk)) await drained(parser);
    }
    if (!parser.destroyed) parser.end();
  } catch (error) {
    if (parser.destroyed) return;
    // Written after every chunk before it: its callback comes once they are parsed.
    parser.write(Buffer.alloc(0), () => {
      if (parser.destroyed) return;
      unreadable.push({ error: error as Unreadable['error'], after: parser.info.records });
      parser.end();
    });
  }
}

/** The item fields a column fills (meta among them). */
function fieldsFrom(name: string, columns: FieldMap): string[] {
  const fields: string[] = ITEM_FIELDS.filter((field) => columns[field] === name);
  if (metaColumns(columns).includes(name)) fields.push('meta');
  return fields;
}

interface RowContext {
  width: number;
  read: { name: string; index: number; fields: string[] }[];
  columns: FieldMap;
  labels: ReadonlySet<string>;
}

async function* rowsAfter(records: AsyncIterator<ParsedRecord>, header: ParsedRecord, unreadable: Unreadable[], context: RowContext): AsyncGenerator<ParsedRow> {
  // A record starts where the one before it ended, after the empty lines skipped since. Lines
  // are counted here: csv-parse's own count takes a CRLF inside a quoted cell for two lines.
  let emptyLines = header.info.empty_lines;
  let nextLine = 1 + emptyLines + spanOf(header.record);
  const startOf = (empty: number) => nextLine + (empty - emptyLines);
  let seen = 1;
  let n = 0;
  /** A record csv-parse could not read, or the source's failure, in its place among the records. */
  const failed = (failure: Unreadable): ParsedRow => {
    const line = startOf(failure.error.empty_lines ?? emptyLines);
    // At the end of the file: the record with the open quote is refused, the rows before it land.
    if (failure.error.code === 'CSV_QUOTE_NOT_CLOSED') {
      return { line, problems: [{ pointer: '', reason: 'opens a quoted cell that is never closed: the rest of the file was read as that cell' }] };
    }
    if (failure.error.code === 'CSV_MAX_RECORD_SIZE') {
      throw problems.validation(`Line ${line}: a CSV record longer than ${MAX_RECORD_BYTES} bytes (a quote that is never closed?); a file import reads none, and nothing of this file landed.`);
    }
    if (failure.error.code?.startsWith('CSV_')) throw problems.validation(`Line ${line}: the CSV can not be read (${failure.error.message}); nothing of this file landed.`);
    throw failure.error;
  };
  const due = () => (unreadable[0] && unreadable[0].after <= seen ? unreadable.shift()! : null);
  try {
    for (;;) {
      const before = due();
      if (before) {
        yield failed(before);
        continue;
      }
      const next = await records.next();
      // A failure noted while waiting, in place before this record: the record is not read.
      const inPlace = due() ?? (next.done ? unreadable.shift() : undefined);
      if (inPlace) {
        yield failed(inPlace);
        continue;
      }
      if (next.done) return;
      seen++;
      const { record, info } = next.value;
      const line = startOf(info.empty_lines);
      emptyLines = info.empty_lines;
      nextLine = line + spanOf(record);
      yield rowOf(record, line, ++n, context);
    }
  } finally {
    // Stopped early (the import failed): the parser is destroyed, and the file's bytes with it.
    await records.return?.();
  }
}

/** One record as an item (numbered `n` for `@line`), or why it is refused, by field and column. */
function rowOf(record: Buffer[], line: number, n: number, { width, read, columns, labels }: RowContext): ParsedRow {
  if (record.length !== width) return { line, problems: [{ pointer: '', reason: `has ${record.length} cells where the header has ${width} columns` }] };
  const cells: Record<string, string> = {};
  const undecodable: CellProblem[] = [];
  for (const { name, index, fields } of read) {
    try {
      cells[name] = utf8.decode(record[index]!);
    } catch {
      for (const field of fields) undecodable.push({ pointer: `/${field}`, reason: `is not valid UTF-8 (column "${name}")` });
    }
  }
  if (undecodable.length) return { line, problems: undecodable };
  const mapped = mapCsvRow(cells, columns, n);
  if (mapped.problems.length) return { line, problems: mapped.problems };
  const checked = readItemValue(mapped.item, labels);
  return 'item' in checked ? { line, item: checked.item } : { line, problems: nameSources(checked.problems, columns, 'column') };
}
