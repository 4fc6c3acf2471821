import { setTimeout as delay } from 'node:timers/promises';
import { retryAfterSeconds } from './errors';

/** How a request answered 429 or 503 is tried again. */
export interface RetryOptions {
  /** Tries in all, the first included (default 5; 1: never retry). */
  attempts?: number;
  /**
   * The wait in ms before retry number `retry` (1 for the first) of an answer without
   * Retry-After. Default: exponential with full jitter, 250 ms doubling, at most 8 s.
   */
  backoff?: (retry: number) => number;
  /** The longest Retry-After waited for (default 60 s); a longer one fails the call at once. */
  maxRetryAfterMs?: number;
  /** How waits are made; tests pass one that does not sleep. */
  sleep?: (ms: number, signal?: AbortSignal) => Promise<unknown>;
  /** Told before each wait (a CLI shows it; a service logs it). */
  onRetry?: (info: RetryInfo) => void;
}

export interface RetryInfo {
  method: string;
  url: string;
  status: number;
  /** The try that is about to start (2 for the first retry). */
  attempt: number;
  waitMs: number;
}

/** The statuses that mean "not now, ask again": rate limited, or the server unavailable for the moment. */
export const RETRY_STATUSES: ReadonlySet<number> = new Set([429, 503]);

/** Exponential backoff with full jitter (AWS Architecture Blog, "Exponential Backoff and Jitter"). */
export function defaultBackoff(retry: number, random: () => number = Math.random): number {
  return Math.round(random() * Math.min(8_000, 250 * 2 ** (retry - 1)));
}

/**
 * Sends `makeRequest()`'s request until the answer is neither 429 nor 503 or the tries run out,
 * waiting the answer's Retry-After, else the backoff, between tries. Each try gets a request of
 * its own (a body can be read once), so a caller that streams a file reopens it here. The last
 * answer is returned whatever it is; a request that gets no answer rejects at once (no retry:
 * whether a POST got through is unknown).
 */
export async function sendWithRetries(
  makeRequest: (attempt: number) => Request | Promise<Request>,
  send: (request: Request) => Promise<Response>,
  options: RetryOptions = {},
): Promise<Response> {
  const attempts = Math.max(1, options.attempts ?? 5);
  const backoff = options.backoff ?? defaultBackoff;
  const maxRetryAfterMs = options.maxRetryAfterMs ?? 60_000;
  const sleep = options.sleep ?? ((ms: number, signal?: AbortSignal) => delay(ms, undefined, { signal }));
  for (let attempt = 1; ; attempt++) {
    const request = await makeRequest(attempt);
    const response = await send(request);
    if (!RETRY_STATUSES.has(response.status) || attempt >= attempts) return response;
    const after = retryAfterSeconds(response.headers.get('retry-after'));
    const waitMs = after === null ? backoff(attempt) : after * 1000;
    if (waitMs > maxRetryAfterMs) return response;
    // The unread body would hold the connection until collected.
    await response.body?.cancel().catch(() => undefined);
    options.onRetry?.({ method: request.method, url: request.url, status: response.status, attempt: attempt + 1, waitMs });
    await sleep(waitMs, request.signal);
  }
}
