import { createHash } from 'node:crypto';
import type { FastifyReply, FastifyRequest, onResponseAsyncHookHandler, onSendAsyncHookHandler, preHandlerAsyncHookHandler } from 'fastify';
import stringify from 'safe-stable-stringify';
import type { Pool } from '@alder/db';
import { actorOf, presentedKey } from './auth';
import type { KeyLock, KeyLocks } from './idempotency-locks';
import { claimIdempotencyKey, completeIdempotencyKey, releaseIdempotencyKey, type HeldKey, type StoredAnswer } from './idempotency.repository';
import { HttpProblem } from './problem';
import { openAnswer, sealAnswer } from './response-seal';

/** The header, as Node names it. */
export const IDEMPOTENCY_HEADER = 'idempotency-key';
/** Set on an answer that is a kept one sent again. */
export const REPLAYED_HEADER = 'idempotent-replayed';
/** The answer headers kept and replayed with the status and body. */
const KEPT_HEADERS = ['content-type', 'location'] as const;
/**
 * The largest body kept for a key. Creating answers are small (a project echoes its settings, at
 * most what was sent); one over this is still sent, and a replay says it was not kept.
 */
export const MAX_KEPT_ANSWER_BYTES = 1024 * 1024;

export interface IdempotencyOptions {
  pool: Pool;
  locks: KeyLocks;
  ttlHours: number;
  maxKeptBytes?: number;
}

/** What a request that claimed its key holds until its answer is recorded. */
interface Claim {
  lock: KeyLock;
  held: HeldKey;
  apiKey: string;
  context: string;
  finished: boolean;
}

const claims = new WeakMap<FastifyRequest, Claim>();

/**
 * What a key is compared by: method, path (with any query) and the parsed JSON body in a
 * canonical form (keys sorted), so a retry that serialises its body differently is the same
 * request.
 */
export function requestFingerprint(method: string, url: string, body: unknown): Buffer {
  return createHash('sha256').update(stringify([method.toUpperCase(), url, body ?? null])!).digest();
}

/** A body its handler reads as a stream (NDJSON, a multipart file): not parsed, so not comparable. */
function isStreamBody(body: unknown): boolean {
  return body !== null && typeof body === 'object' && typeof (body as { pipe?: unknown }).pipe === 'function';
}

const keyPath = `header/${IDEMPOTENCY_HEADER}`;

function inFlight(): HttpProblem {
  return new HttpProblem(409, 'idempotency-key-in-flight', 'A request with this Idempotency-Key is still running; ask again when it has answered.', undefined, { 'retry-after': '1' });
}

function mismatch(): HttpProblem {
  return new HttpProblem(422, 'idempotency-key-mismatch', 'This Idempotency-Key was first used with another request (method, path or body); use a new key for a new request.', [
    { path: keyPath, message: 'was used with another request' },
  ]);
}

function notKept(status: number): HttpProblem {
  return new HttpProblem(409, 'idempotency-response-too-large', `The first request with this Idempotency-Key was answered ${status}, with a body larger than Alder keeps; it was not repeated.`);
}

function replay(reply: FastifyReply, answer: StoredAnswer, claim: Pick<Claim, 'apiKey' | 'context'>): FastifyReply {
  if (answer.sealedBody === null) throw notKept(answer.status);
  const body = openAnswer(claim.apiKey, claim.context, answer.sealedBody);
  // A Buffer is sent as it is: the kept bytes, not serialised again.
  return reply.code(answer.status).headers(answer.headers).header(REPLAYED_HEADER, 'true').send(body);
}

function keptHeaders(reply: FastifyReply): Record<string, string> {
  const kept: Record<string, string> = {};
  for (const name of KEPT_HEADERS) {
    const value = reply.getHeader(name);
    if (value !== undefined) kept[name] = String(value);
  }
  return kept;
}

/**
 * The hooks of one operation marked `x-alder-idempotent: true`. `preHandler` (after the access
 * hook and the validation, so a refused or malformed request keeps no answer): no header, nothing
 * happens; else the key's lock (409 when a request with it is running), then the key's row: the
 * kept answer sent again, 422 for another request, or the row claimed and the handler run.
 * `onSend` records the answer before it leaves (a retry that follows the answer finds it): a
 * status under 500 is kept, a 5xx forgets the key so that a retry runs again. `onResponse` frees
 * the lock of a request that never reached `onSend`.
 */
export function idempotencyHooks(operationId: string, options: IdempotencyOptions) {
  const { pool, locks, ttlHours } = options;
  const maxKept = options.maxKeptBytes ?? MAX_KEPT_ANSWER_BYTES;

  const preHandler: preHandlerAsyncHookHandler = async (request, reply) => {
    const key = request.headers[IDEMPOTENCY_HEADER];
    // Its format (1-255 printable ASCII) is the spec's IdempotencyKey parameter, validated already.
    if (typeof key !== 'string') return;
    // A streamed body (NDJSON, a multipart file) is read by its handler, after this hook: it can
    // not be compared with the first one here. Streams are safe to send again without a key
    // (their items are unique by external_id), so the key is not used for them.
    if (isStreamBody(request.body)) return;
    const actor = actorOf(request);
    const apiKey = presentedKey(request)!;
    const scope = { apiKeyId: actor.keyId, operationId, key };
    const context = `${operationId}\n${key}`;
    const lock = await locks.tryLock(`${actor.keyId}\n${context}`);
    if (!lock) throw inFlight();
    let outcome;
    try {
      outcome = await claimIdempotencyKey(pool, scope, requestFingerprint(request.method, request.url, request.body), ttlHours);
    } catch (error) {
      await lock.release();
      throw error;
    }
    if (outcome.kind !== 'claimed') {
      await lock.release();
      if (outcome.kind === 'mismatch') throw mismatch();
      return replay(reply, outcome.answer, { apiKey, context });
    }
    claims.set(request, { lock, held: { id: outcome.id, attempt: outcome.attempt }, apiKey, context, finished: false });
  };

  const onSend: onSendAsyncHookHandler<unknown> = async (request, reply, payload) => {
    const claim = claims.get(request);
    if (!claim || claim.finished) return payload;
    claim.finished = true;
    try {
      const body = typeof payload === 'string' ? Buffer.from(payload) : Buffer.isBuffer(payload) ? payload : payload == null ? Buffer.alloc(0) : null;
      if (reply.statusCode >= 500 || body === null) {
        // Not kept: a 5xx may not have happened at all, and a retry should be able to succeed.
        // (A stream, which no creating operation answers with, can not be kept either.)
        await releaseIdempotencyKey(pool, claim.held);
      } else {
        const sealedBody = body.length <= maxKept ? sealAnswer(claim.apiKey, claim.context, body) : null;
        if (!sealedBody) request.log.warn({ bytes: body.length, max: maxKept }, 'answer too large to keep for its Idempotency-Key');
        const stored = await completeIdempotencyKey(pool, claim.held, { status: reply.statusCode, headers: keptHeaders(reply), sealedBody });
        if (!stored) request.log.warn('the Idempotency-Key of this request was taken over while it ran (its lock session was lost); its answer is not kept');
      }
    } catch (error) {
      // The change is made; failing the answer now would only invite a retry that repeats it.
      request.log.error({ err: error }, 'could not record the answer for an Idempotency-Key; a retry with it will run again');
    } finally {
      await claim.lock.release();
    }
    return payload;
  };

  const onResponse: onResponseAsyncHookHandler = async (request) => {
    const claim = claims.get(request);
    if (!claim || claim.finished) return;
    claim.finished = true;
    // Its row stays in flight, and the next request with the key takes it over.
    request.log.warn('a request with an Idempotency-Key ended without an answer recorded');
    await claim.lock.release();
  };

  return { preHandler, onSend, onResponse };
}
