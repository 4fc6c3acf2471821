import { randomUUID } from 'node:crypto';
import { STATUS_CODES } from 'node:http';
import type { Socket } from 'node:net';
import { problemDocument } from './problem';
import { PROBLEM_JSON } from './error-handler';

interface ClientError extends Error {
  code?: string;
  /** What Node had read of the request when it gave up, a Buffer (its first bytes name the method; fastify's types say otherwise). */
  rawPacket?: unknown;
}

/** What Node's HTTP parser reports, as the status it answers with and why. */
function statusOf(error: ClientError): { status: number; detail: string } {
  switch (error.code) {
    case 'ERR_HTTP_REQUEST_TIMEOUT':
      return { status: 408, detail: 'The request was not received in time.' };
    case 'HPE_HEADER_OVERFLOW':
      return { status: 431, detail: 'The request line and headers are larger than this server accepts.' };
    default:
      return { status: 400, detail: 'The request is not valid HTTP/1.1.' };
  }
}

/**
 * fastify's `clientErrorHandler`: the answer to what Node's HTTP server refuses before fastify
 * sees a request (headers not received in time, headers too large, bytes that are not HTTP).
 * There is no request or reply object yet, only the socket, so the problem document is written
 * as a raw response, then the socket is closed, as Node does. The request id is a fresh one (the
 * headers, if any, were never parsed).
 */
export function clientErrorHandler(this: { log: { trace(obj: object, msg: string): void } }, error: ClientError, socket: Socket): void {
  // A reset connection, or one already gone: nobody is left to answer.
  if (error.code === 'ECONNRESET' || socket.destroyed) return;
  const { status, detail } = statusOf(error);
  const body = JSON.stringify({ ...problemDocument(status, undefined, detail), request_id: randomUUID() });
  this.log.trace({ err: error }, 'client error');
  if (socket.writable) {
    const head = [`HTTP/1.1 ${status} ${STATUS_CODES[status]}`, `Content-Type: ${PROBLEM_JSON}`, `Content-Length: ${Buffer.byteLength(body)}`, 'Connection: close'];
    // The answer to a HEAD has no body (its client would read one as the next answer's start).
    const headOnly = Buffer.isBuffer(error.rawPacket) && error.rawPacket.subarray(0, 5).toString('latin1') === 'HEAD ';
    socket.write(`${head.join('\r\n')}\r\n\r\n${headOnly ? '' : body}`);
  }
  socket.destroy(error);
}
