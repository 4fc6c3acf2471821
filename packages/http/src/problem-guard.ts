import type { FastifyReply, FastifyRequest } from 'fastify';
import { PROBLEM_JSON } from './error-handler';
import { problemDocument } from './problem';

const isProblem = (type: unknown) => typeof type === 'string' && type.toLowerCase().startsWith('application/problem+json');

/** What a plugin's error body says: its `message` when it is fastify-style JSON, else its text (cut short). */
function wordsOf(text: string): string {
  try {
    const parsed = JSON.parse(text) as { message?: unknown };
    if (typeof parsed?.message === 'string') return parsed.message.slice(0, 200);
  } catch {
    // Not JSON: the text itself.
  }
  return text.slice(0, 200);
}

/**
 * onSend, for every reply: an error status always goes out as problem+json. Everything Alder
 * raises already does (error handler, not-found handler); this catches what plugins answer on
 * their own, such as @fastify/cors's 400 `text/plain` for an incomplete preflight, so that no
 * path is left that answers an error in another shape. The status is kept; the words become a
 * problem document of the kind the status stands for.
 */
export async function problemsOnly(request: FastifyRequest, reply: FastifyReply, payload: unknown): Promise<unknown> {
  if (reply.statusCode < 400 || isProblem(reply.getHeader('content-type'))) return payload;
  // A stream is a body being sent, not an error's words: left as it is.
  if (payload !== null && payload !== undefined && typeof payload !== 'string' && !Buffer.isBuffer(payload)) return payload;
  const sent = wordsOf(payload === null || payload === undefined ? '' : payload.toString());
  reply.header('content-type', PROBLEM_JSON);
  reply.removeHeader('content-length');
  return JSON.stringify({
    ...problemDocument(reply.statusCode, undefined, sent || undefined),
    instance: request.url.split('?')[0],
    request_id: String(request.id),
  });
}
