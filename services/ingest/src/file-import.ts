import { Readable } from 'node:stream';
import type { Pool } from '@alder/db';
import { inflateCapped } from '@alder/http';
import type { Logger } from '@alder/logger';
import { openCsvRows } from './csv-rows';
import { importOptions } from './file-options';
import { mappedJsonlRows } from './jsonl-rows';
import { readUpload } from './multipart-upload';
import { ingestNdjsonStream, type StreamOutcome } from './ndjson-ingest';

/** The source's items, then the form's end: nothing lands before the form is known to hold nothing more. */
async function* thenFormEnd<T>(source: AsyncIterable<T>, end: Promise<void>): AsyncGenerator<T> {
  yield* source;
  await end;
}

/**
 * A JSONL or CSV file sent as multipart/form-data, as one batch of source `file`, through the
 * NDJSON stream's pipeline (`ingestNdjsonStream`: staged with COPY as it is read, landed in one
 * transaction). JSONL without a mapping is that stream's body as it is; CSV, and JSONL under a
 * mapping, come as rows already checked (csv-rows.ts, jsonl-rows.ts). Everything refused before
 * the file's rows are read (the form's fields, the part's type, the CSV header against the
 * mapping) is refused before the batch is opened: such a request leaves nothing behind.
 */
export async function importFile(
  deps: { pool: Pool; log: Logger; maxInflatedBytes: number; chunkRows: number },
  input: { projectId: string; actor: { userId: string; keyId: string } | null; body: Readable; contentType: string },
): Promise<StreamOutcome> {
  const upload = readUpload(input.body, input.contentType);
  const part = await upload.file;
  const options = importOptions(part);
  const bytes = options.gzip ? inflateCapped(Readable.from(part.bytes), deps.maxInflatedBytes, 'file') : part.bytes;
  const batch = { projectId: input.projectId, actor: input.actor, file: options.file, chunkRows: deps.chunkRows };
  const ingest = { pool: deps.pool, log: deps.log };
  if (options.format === 'csv') {
    const csv = await openCsvRows(bytes, options.mapping);
    return ingestNdjsonStream(ingest, { ...batch, rows: (labels) => thenFormEnd(csv.rows(labels), upload.end) });
  }
  const { mapping } = options;
  if (mapping) return ingestNdjsonStream(ingest, { ...batch, rows: (labels) => thenFormEnd(mappedJsonlRows(bytes, mapping, labels), upload.end) });
  return ingestNdjsonStream(ingest, { ...batch, body: thenFormEnd(bytes, upload.end) });
}
