import { pipeline, Readable, Transform, type TransformCallback } from 'node:stream';
import { Stringifier } from 'csv-stringify';
import type { Pool } from '@alder/db';
import { problems, type HandlerDeps, type HandlerMap, type OperationHandler, type OperationRequest } from '@alder/http';
import {
  EXPORT_CSV_COLUMNS,
  exportQuery,
  findModelVersion,
  findProjectName,
  streamRows,
  trainingSetQuery,
  type ExportFormat,
  type RowQuery,
} from './export.repository';

type Reply = Parameters<OperationHandler<'exportLabels'>>[1];
type Request = Pick<OperationRequest<'exportLabels'>, 'method' | 'log'>;

const CONTENT_TYPES: Record<ExportFormat, string> = { jsonl: 'application/x-ndjson', csv: 'text/csv; charset=utf-8' };
/** Bytes gathered into one write: a socket write per ~300-byte record would cost more than the record. */
const WRITE_BYTES = 64 * 1024;

/** Gathers small string chunks into writes of about WRITE_BYTES (the first one alone). */
class Batcher extends Transform {
  private parts: string[] = [];
  private size = 0;
  private started = false;

  constructor() {
    super({ writableObjectMode: true });
  }

  override _transform(chunk: string | Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    const text = typeof chunk === 'string' ? chunk : chunk.toString('utf8');
    this.parts.push(text);
    this.size += text.length;
    // The first chunk goes at once: it sends the 200 and its headers, after which a failure can
    // only cut the body short (before it, fastify would answer the error as a problem document
    // under this response's content-disposition).
    if (this.size >= WRITE_BYTES || !this.started) this.drainParts();
    callback();
  }

  override _flush(callback: TransformCallback): void {
    this.drainParts();
    callback();
  }

  private drainParts(): void {
    if (!this.parts.length) return;
    this.push(this.parts.join(''));
    this.started = true;
    this.parts = [];
    this.size = 0;
  }
}

/**
 * The rows as a readable stream, the first one already read: pulled only as fast as the stream
 * is read. Destroying it (a finished, failed or abandoned response) closes the rows, whatever
 * state they are in, so the cursor closes and its client goes back to the pool.
 */
function rowStream<Row>(first: IteratorResult<Row, void>, rest: AsyncGenerator<Row, void, undefined>, map: (row: Row) => unknown): Readable {
  let next: IteratorResult<Row, void> | null = first;
  let pulling = false;
  return new Readable({
    objectMode: true,
    read() {
      if (pulling) return;
      pulling = true;
      void (async () => {
        try {
          for (;;) {
            const result = next ?? (await rest.next());
            next = null;
            if (result.done) return void this.push(null);
            if (!this.push(map(result.value))) return;
          }
        } catch (error) {
          this.destroy(error instanceof Error ? error : new Error(String(error)));
        } finally {
          pulling = false;
        }
      })();
    },
    destroy(error, callback) {
      rest.return().then(
        () => callback(error),
        (closing: Error) => callback(error ?? closing),
      );
    },
  });
}

/** A file name from the project's name: header-safe ASCII, else the project id. */
function fileStem(name: string, projectId: string): string {
  const stem = name
    .normalize('NFKD')
    .replace(/[^A-Za-z0-9._-]+/g, '-')
    .replace(/^[-.]+|-+$/g, '')
    .slice(0, 100);
  return stem || projectId;
}

/** `since` as the ISO instant it names (Postgres gets no text it could refuse mid-request). */
function sinceInstant(since: string | undefined): string | null {
  if (since === undefined) return null;
  const time = Date.parse(since);
  if (Number.isNaN(time)) throw problems.validation('The request does not match the API schema.', [{ path: 'query/since', message: 'must be a date-time' }]);
  return new Date(time).toISOString();
}

interface StreamedBody {
  query: RowQuery;
  format: ExportFormat;
  headers: Record<string, string>;
  /** What the log lines of this response carry. */
  context: Record<string, unknown>;
}

/**
 * Streams the query's rows as the response, with backpressure end to end: the socket's pace
 * paces the pipe, which paces the cursor. The first row is read before anything is sent, so a
 * failure up to there is still a problem+json (from the shared error handler). After the headers
 * are out, a failure can only cut the response short: fastify destroys the socket (the client
 * sees the body end without its terminating chunk, never a problem document glued to a 200)
 * and it is logged here at error. A client going away destroys the pipe, which closes the cursor
 * and hands the client back to the pool.
 */
async function sendRows(pool: Pool, request: Request, reply: Reply, body: StreamedBody): Promise<Reply> {
  // HEAD: fastify would read every row only to drop them; the headers are the answer.
  if (request.method === 'HEAD') return reply.headers(body.headers).send();
  const rows = streamRows<Record<string, unknown>>(pool, body.query);
  const first = await rows.next();
  let count = 0;
  const source = rowStream(first, rows, (row) => {
    count += 1;
    return body.format === 'csv' ? row : `${row.line as string}\n`;
  });
  const done = (error: NodeJS.ErrnoException | null) => {
    if (!error) return request.log.debug({ ...body.context, rows: count }, 'streamed');
    if (error.code === 'ERR_STREAM_PREMATURE_CLOSE') return request.log.info({ ...body.context, rows: count }, 'client went away mid-stream; cursor closed');
    request.log.error({ err: error, ...body.context, rows: count }, 'failed mid-stream; response cut short');
  };
  const stream =
    body.format === 'csv'
      ? pipeline(source, new Stringifier({ header: true, columns: [...EXPORT_CSV_COLUMNS] }), new Batcher(), done)
      : pipeline(source, new Batcher(), done);
  return reply.code(200).headers(body.headers).send(stream);
}

/** Resolved labels with their provenance, and a model version's training set, streamed. */
export function exportHandlers({ pool }: HandlerDeps): HandlerMap {
  return {
    exportLabels: async (request, reply) => {
      const projectId = request.params.project_id;
      const format = request.query.format ?? 'jsonl';
      const since = sinceInstant(request.query.since);
      const name = await findProjectName(pool, projectId);
      if (name === null) throw problems.notFound(`No project ${projectId}.`);
      const query = exportQuery(format, { projectId, status: request.query.status ?? 'resolved', resolvedBy: request.query.resolved_by ?? null, since });
      return sendRows(pool, request, reply, {
        query,
        format,
        headers: { 'content-type': CONTENT_TYPES[format], 'content-disposition': `attachment; filename="${fileStem(name, projectId)}-labels.${format}"` },
        context: { projectId, export: 'labels', format },
      });
    },

    getTrainingSet: async (request, reply) => {
      const { project_id: projectId, version } = request.params;
      const name = await findProjectName(pool, projectId);
      const model = name === null ? null : await findModelVersion(pool, projectId, version);
      if (name === null || model === null) throw problems.notFound(`No model version ${version} in project ${projectId}.`);
      return sendRows(pool, request, reply, {
        query: trainingSetQuery(model.id, model.recorded),
        format: 'jsonl',
        headers: {
          'content-type': CONTENT_TYPES.jsonl,
          'content-disposition': `attachment; filename="${fileStem(name, projectId)}-v${version}-training-set.jsonl"`,
        },
        context: { projectId, export: 'training-set', version, recorded: model.recorded },
      });
    },
  };
}
