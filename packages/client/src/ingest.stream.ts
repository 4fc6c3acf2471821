import { randomUUID } from 'node:crypto';
import { pipeline, Readable } from 'node:stream';
import { constants, createGzip } from 'node:zlib';
import { IDEMPOTENCY_HEADER } from './idempotency';
import { sendWithRetries, type RetryOptions } from './retry';

/** NDJSON bytes or text, one item object a line: a file stream, a generator, ... */
export type NdjsonSource = AsyncIterable<Uint8Array | string> | Iterable<Uint8Array | string>;

export interface IngestStreamOptions {
  /** Compress the body (default true): text shrinks several times, and Alder inflates it as it reads. */
  gzip?: boolean;
  /** Ends the upload (the batch is then aborted and nothing of it lands). */
  signal?: AbortSignal;
  /** The key of this logical request (default: a new UUID), sent on every try. */
  idempotencyKey?: string;
}

interface Target {
  url: string;
  headers: Record<string, string>;
  fetch: typeof fetch;
  retry?: RetryOptions;
}

/**
 * POSTs an NDJSON stream, retrying 429/503 from the top with a fresh stream from `open`: a
 * stream that was answered 503 landed nothing, and lines a retry sends again are duplicates.
 * Not through openapi-fetch's fetch, whose retry clones the request: a clone of a streamed body
 * keeps in memory everything one branch read ahead of the other.
 */
export function ingestStream(target: Target, open: () => NdjsonSource, options: IngestStreamOptions = {}): Promise<Response> {
  const gzip = options.gzip ?? true;
  const key = options.idempotencyKey ?? randomUUID();
  const makeRequest = () => {
    const source = Readable.from(open(), { objectMode: false });
    // A sync flush per chunk read: the server gets lines as they are read (a slow producer, such
    // as a pipe, is not held back until the compressor's buffer fills), at a small cost in size.
    // pipeline(), not pipe(): a failed source fails the upload, and a cancelled upload (an abort)
    // ends the source, so a file or standard input is not left open.
    const body = gzip ? pipeline(source, createGzip({ flush: constants.Z_SYNC_FLUSH }), () => undefined) : source;
    return new Request(target.url, {
      method: 'POST',
      headers: {
        ...target.headers,
        'content-type': 'application/x-ndjson',
        ...(gzip ? { 'content-encoding': 'gzip' } : {}),
        [IDEMPOTENCY_HEADER]: key,
      },
      body: Readable.toWeb(body) as ReadableStream<Uint8Array>,
      duplex: 'half',
      signal: options.signal,
    });
  };
  return sendWithRetries(makeRequest, (request) => target.fetch(request), target.retry);
}
