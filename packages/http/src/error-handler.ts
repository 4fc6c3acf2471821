import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { HttpProblem, kindOfStatus, PROBLEM_BASE, problemDocument, problemTitles, type ProblemDocument, type ProblemFieldError } from './problem';

export const PROBLEM_JSON = 'application/problem+json; charset=utf-8';
const MAX_LISTED_ERRORS = 100;

interface AjvError {
  instancePath: string;
  message?: string;
  keyword: string;
  params: Record<string, unknown>;
}

const PART_NAMES: Record<string, string> = { body: 'body', querystring: 'query', params: 'path', headers: 'header' };

/** `body/items/3/label` style paths: the request part, then the JSON pointer inside it. */
function validationErrors(error: FastifyError): ProblemFieldError[] {
  const part = PART_NAMES[error.validationContext ?? 'body'] ?? 'body';
  return ((error.validation ?? []) as AjvError[]).slice(0, MAX_LISTED_ERRORS).map((e) => {
    let path = `${part}${e.instancePath}`;
    const property = e.params.missingProperty ?? e.params.additionalProperty;
    if (typeof property === 'string') path += `/${property}`;
    let message = e.message ?? e.keyword;
    if (e.keyword === 'additionalProperties') message = 'is not a known property';
    if (e.keyword === 'enum' && Array.isArray(e.params.allowedValues)) message = `must be one of: ${e.params.allowedValues.join(', ')}`;
    return { path, message };
  });
}

/** Postgres or Redis is away (refused, timed out, shutting down): the caller may retry later. */
function isUnavailable(error: unknown): boolean {
  const e = error as { code?: unknown; message?: unknown; name?: unknown };
  const code = typeof e.code === 'string' ? e.code : '';
  const message = typeof e.message === 'string' ? e.message : '';
  return (
    ['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'ENOTFOUND', 'EAI_AGAIN', 'EPIPE', '53300', '57P01', '57P02', '57P03'].includes(code) ||
    code.startsWith('08') ||
    e.name === 'MaxRetriesPerRequestError' ||
    /timeout exceeded when trying to connect|Connection terminated|Stream isn't writeable|Connection is closed/i.test(message)
  );
}

function fromError(error: FastifyError, request: FastifyRequest): { problem: ProblemDocument; headers?: Record<string, string> } {
  const make = problemDocument;
  if (error instanceof HttpProblem) {
    return { problem: make(error.status, error.kind, error.detail, error.errors), headers: error.headers };
  }
  if (error.validation) {
    // A malformed id in the path names no resource: that is a 404, not a validation error.
    if (error.validationContext === 'params') return { problem: make(404, 'not-found', 'No such resource.') };
    return { problem: make(422, 'validation', 'The request does not match the API schema.', validationErrors(error)) };
  }
  switch (error.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return { problem: make(413, 'payload-too-large', 'The request body is larger than this server accepts.') };
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return { problem: make(415, 'unsupported-media-type', 'Send the body as application/json.') };
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return { problem: make(400, 'malformed-request', 'The body is empty but the content type is JSON.') };
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
      return { problem: make(400, 'malformed-request', 'The body is not valid JSON.') };
    // Raised by the router (frameworkErrors below), before any route is found.
    case 'FST_ERR_BAD_URL':
      return { problem: make(400, 'malformed-request', 'The path is not valid percent-encoded UTF-8.') };
    case 'FST_ERR_MAX_PARAM_LENGTH':
      return { problem: make(414, 'uri-too-long', 'A path segment is longer than this server accepts.') };
  }
  const status = error.statusCode ?? 500;
  if (status >= 400 && status < 500) {
    // Other client errors raised by fastify itself (bad content-length, ...): their messages are generic.
    return { problem: make(status, kindOfStatus(status), error.message) };
  }
  if (isUnavailable(error)) {
    request.log.warn({ err: error }, 'dependency unavailable');
    return { problem: make(503, 'unavailable', 'A backing service is unavailable; retry later.'), headers: { 'retry-after': '5' } };
  }
  request.log.error({ err: error }, 'unhandled error');
  return { problem: make(500, 'internal', 'An unexpected error occurred; quote the request_id when reporting it.') };
}

/** Sends a problem document for this request (the route's response schema serialises it). */
export function sendProblem(reply: FastifyReply, request: FastifyRequest, problem: ProblemDocument, headers?: Record<string, string>): FastifyReply {
  if (headers) reply.headers(headers);
  return reply
    .code(problem.status)
    .type(PROBLEM_JSON)
    .send({ ...problem, instance: request.url.split('?')[0], request_id: String(request.id) });
}

/**
 * fastify's `frameworkErrors`: what the router itself refuses before a route is found (a path
 * that is not valid percent-encoded UTF-8, a path parameter over `maxParamLength`), answered as
 * every other error is instead of fastify's own plain JSON.
 */
export function frameworkErrorHandler(error: FastifyError, request: FastifyRequest, reply: FastifyReply): void {
  const { problem, headers } = fromError(error, request);
  sendProblem(reply, request, problem, headers);
}

/** One error handler and one not-found handler for the whole app: every error is problem+json. */
export function installProblemHandlers(app: FastifyInstance): void {
  app.setErrorHandler((error: FastifyError, request, reply) => {
    const { problem, headers } = fromError(error, request);
    return sendProblem(reply, request, problem, headers);
  });
  app.setNotFoundHandler((request, reply) =>
    sendProblem(reply, request, { type: PROBLEM_BASE + 'not-found', title: problemTitles['not-found'], status: 404, detail: `No route for ${request.method} ${request.url.split('?')[0]}.` }),
  );
}
