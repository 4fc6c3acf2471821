import { Transform, type TransformCallback } from 'node:stream';
import { createGunzip } from 'node:zlib';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { HttpProblem } from './problem';

/** The media type of item streams: one JSON object a line. */
export const NDJSON = 'application/x-ndjson';

/** A request body larger than the server takes (413), raised while the body is being read. */
export class BodyTooLarge extends HttpProblem {
  constructor(limit: number, what: string) {
    super(413, 'payload-too-large', `The ${what} is larger than this server accepts (${limit} bytes).`);
  }
}

/** Counts the bytes that pass and fails the stream at the first one over `limit`. */
class ByteCap extends Transform {
  private seen = 0;
  constructor(
    private readonly limit: number,
    private readonly what: string,
  ) {
    super();
  }
  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    this.seen += chunk.length;
    if (this.seen > this.limit) return callback(new BodyTooLarge(this.limit, this.what));
    callback(null, chunk);
  }
}

function isNdjson(request: FastifyRequest): boolean {
  return (request.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase() === NDJSON;
}

/**
 * Request bodies as sent or gzip-compressed (`Content-Encoding: gzip`), inflated on the way in
 * with a cap on the inflated size: `maxJsonBytes` for JSON (fastify's body limit counts the
 * inflated bytes too), `maxStreamBytes` for an NDJSON stream. Any other encoding is a 415: a body
 * the server can not read is refused before anything of it is used.
 */
export function acceptGzipBodies(app: FastifyInstance, limits: { maxJsonBytes: number; maxStreamBytes: number }): void {
  app.addHook('preParsing', async (request, _reply, payload) => {
    const encoding = (request.headers['content-encoding'] ?? 'identity').trim().toLowerCase();
    if (encoding === 'identity' || encoding === '') return payload;
    if (encoding !== 'gzip') {
      throw new HttpProblem(415, 'unsupported-media-type', `Content-Encoding "${encoding}" is not supported; send the body as is or gzip-compressed.`);
    }
    const stream = isNdjson(request);
    const limit = stream ? limits.maxStreamBytes : limits.maxJsonBytes;
    const gunzip = createGunzip();
    const cap = new ByteCap(limit, stream ? 'inflated stream' : 'inflated body');
    // A corrupt gzip body is the client's mistake: a 400, like malformed JSON.
    gunzip.on('error', (error) => cap.destroy(new HttpProblem(400, 'malformed-request', `The gzip body can not be inflated: ${error.message}`)));
    payload.on('error', (error) => gunzip.destroy(error));
    // The error stays on the stream (read by whoever iterates it, perhaps later: a stream's
    // handler may not have started reading yet); an unheard 'error' event would crash the process.
    cap.on('error', () => undefined);
    // The inflated stream stands in for the body. fastify checks Content-Length against
    // `receivedEncodedLength` when the stream has one: the bytes that were sent, not inflated.
    const inflated = payload.pipe(gunzip).pipe(cap) as unknown as Transform & { receivedEncodedLength: number };
    inflated.receivedEncodedLength = 0;
    payload.on('data', (chunk: Buffer) => {
      inflated.receivedEncodedLength += chunk.length;
    });
    return inflated;
  });
}

/**
 * NDJSON bodies are not parsed here: the handler of an operation that takes them reads the
 * stream itself, line by line, with backpressure. An operation whose spec lists no NDJSON body
 * answers one with 415 before its handler runs.
 */
export function acceptNdjsonStreams(app: FastifyInstance): void {
  app.addContentTypeParser(NDJSON, (_request, payload, done) => done(null, payload));
}

/** For a route whose spec takes no NDJSON body: refuse one (415). */
export async function refuseNdjson(request: FastifyRequest): Promise<void> {
  if (isNdjson(request)) throw new HttpProblem(415, 'unsupported-media-type', 'This operation takes application/json bodies only.');
}
