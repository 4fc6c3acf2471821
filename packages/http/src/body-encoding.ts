import { Transform, type TransformCallback } from 'node:stream';
import { createGunzip } from 'node:zlib';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { refuseForeignCharset } from './body-charset';
import { HttpProblem } from './problem';

/** The media type of item streams: one JSON object a line. */
export const NDJSON = 'application/x-ndjson';
/** The media type of file uploads (a form whose file part its handler reads as it arrives). */
export const MULTIPART = 'multipart/form-data';
/** Bodies handed to their handler unread, as streams. */
const STREAMED = [NDJSON, MULTIPART] as const;

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

/** The request's media type, lowercased, without its parameters ('' when it names none). */
export function mediaTypeOf(request: FastifyRequest): string {
  return (request.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
}

function isStreamed(request: FastifyRequest): boolean {
  return (STREAMED as readonly string[]).includes(mediaTypeOf(request));
}

/**
 * A gzip stream inflated with a cap on the inflated bytes: past `limit` the stream fails with a
 * 413 naming `what`, a corrupt one with a 400, and the source's own failure (a client gone)
 * passes as it is. For a compressed part of a body (a file); whole bodies are inflated below.
 */
export function inflateCapped(compressed: NodeJS.ReadableStream, limit: number, what: string): Transform {
  const gunzip = createGunzip();
  const cap = new ByteCap(limit, `inflated ${what}`);
  gunzip.on('error', (error) => cap.destroy(new HttpProblem(400, 'malformed-request', `The ${what} can not be inflated (gzip): ${error.message}`)));
  compressed.on('error', (error) => cap.destroy(error));
  cap.on('error', () => undefined);
  compressed.pipe(gunzip).pipe(cap);
  return cap;
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
    const stream = isStreamed(request);
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
 * NDJSON and multipart bodies are not parsed here: the handler of an operation that takes them
 * reads the stream itself, with backpressure. An operation whose spec lists neither answers one
 * with 415 before its handler runs (`refuseUnlistedStreams`).
 */
export function acceptStreamedBodies(app: FastifyInstance): void {
  for (const type of STREAMED) {
    app.addContentTypeParser(type, (request, payload, done) => {
      try {
        refuseForeignCharset(request);
      } catch (error) {
        return done(error as Error, undefined);
      }
      done(null, payload);
    });
  }
}

/** The streamed media types (NDJSON, multipart) that a body's `content` lists. */
export function streamedTypesOf(content: Record<string, unknown> | undefined): Set<string> {
  return new Set(STREAMED.filter((type) => content?.[type] !== undefined));
}

/** For a route: refuse (415) a streamed body of a type its spec does not list. */
export function refuseUnlistedStreams(listed: ReadonlySet<string>) {
  return async (request: FastifyRequest): Promise<void> => {
    const type = mediaTypeOf(request);
    if (!(STREAMED as readonly string[]).includes(type) || listed.has(type)) return;
    const takes = ['application/json', ...listed].join(' or ');
    throw new HttpProblem(415, 'unsupported-media-type', listed.size ? `This operation takes ${takes} bodies, not ${type}.` : 'This operation takes application/json bodies only.');
  };
}
