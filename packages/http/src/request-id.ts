import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';

/** The header a request's id travels in, both ways. */
export const REQUEST_ID_HEADER = 'x-request-id';

/**
 * What a client's own request id may be: 1 to 128 of letters, digits and `. _ : -`. UUIDs,
 * ULIDs and tracing ids fit; a space, a quote, a control character or a line that long does not.
 * The id is echoed in a response header, written into every log line of the request and put in
 * problem documents, so anything else could forge log lines or smuggle markup.
 */
const SAFE_REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/**
 * fastify's `genReqId`: the client's `X-Request-Id` when it is safe (one header of the safe form;
 * two headers arrive joined with ", " and are not), else a fresh random UUID, which is also
 * unique across the processes of a deployment (the log lines of several services meet).
 */
export function requestIdOf(request: IncomingMessage): string {
  const sent = request.headers[REQUEST_ID_HEADER];
  return typeof sent === 'string' && SAFE_REQUEST_ID.test(sent) ? sent : randomUUID();
}
