import type { Schemas } from '@alder/api-types';

type Problem = Schemas['Problem'];

/** Any failure of an Alder call: an error answer (AlderApiError) or no answer (AlderConnectionError). */
export class AlderError extends Error {
  override name = 'AlderError';
}

/** Alder answered with an error status; the fields are its problem+json (RFC 9457) body. */
export class AlderApiError extends AlderError {
  override name = 'AlderApiError';
  constructor(
    message: string,
    readonly status: number,
    /** The problem type URI, e.g. `https://alder.dev/problems/unauthorized`; null when the body was not problem+json. */
    readonly type: string | null,
    readonly problem: Problem | null,
    /** The answer's Retry-After in seconds, when it had one. */
    readonly retryAfterSeconds: number | null,
  ) {
    super(message);
  }

  /** The last segment of the problem type (`unauthorized`, `validation`, ...), or null. */
  get kind(): string | null {
    return this.type?.split('/').pop() ?? null;
  }
}

/** No answer: the connection was refused or reset, the name did not resolve, or the request timed out. */
export class AlderConnectionError extends AlderError {
  override name = 'AlderConnectionError';
  constructor(
    message: string,
    /** The system error code (`ECONNREFUSED`, ...) or `TIMEOUT`. */
    readonly code: string | null,
  ) {
    super(message);
  }
}

const isProblem = (body: unknown): body is Problem =>
  body !== null && typeof body === 'object' && typeof (body as Problem).type === 'string' && typeof (body as Problem).status === 'number';

/** Seconds from a Retry-After header (delta-seconds or an HTTP date), or null. */
export function retryAfterSeconds(header: string | null, now = Date.now()): number | null {
  if (!header) return null;
  const seconds = Number(header);
  if (Number.isFinite(seconds)) return seconds >= 0 ? seconds : null;
  const at = Date.parse(header);
  return Number.isNaN(at) ? null : Math.max(0, (at - now) / 1000);
}

/**
 * The error for an answer that is not 2xx. The message is one line a terminal can show: the
 * problem's detail (or title), the fields it names, and the status with its kind.
 */
export function apiErrorFrom(what: string, response: Response, body: unknown): AlderApiError {
  const problem = isProblem(body) ? body : null;
  const kind = problem?.type.split('/').pop();
  const fields = problem?.errors?.length
    ? ` (${problem.errors.slice(0, 5).map((e) => `${e.path}: ${e.message}`).join('; ')}${problem.errors.length > 5 ? `; ${problem.errors.length - 5} more` : ''})`
    : '';
  const text = problem ? (problem.detail ?? problem.title) : typeof body === 'string' && body.trim() ? body.trim().slice(0, 200) : response.statusText || 'no details';
  return new AlderApiError(
    `${what}: ${text}${fields} [${response.status}${kind ? ` ${kind}` : ''}]`,
    response.status,
    problem?.type ?? null,
    problem,
    retryAfterSeconds(response.headers.get('retry-after')),
  );
}

/** The error for a request that got no answer (fetch rejected). */
export function connectionErrorFrom(what: string, baseUrl: string, error: unknown): AlderError {
  const e = error as Error & { cause?: { code?: string; message?: string } };
  if (e?.name === 'AbortError') return Object.assign(new AlderError(`${what}: aborted`), { name: 'AbortError' });
  if (e?.name === 'TimeoutError') return new AlderConnectionError(`${what}: no answer from ${baseUrl} in time`, 'TIMEOUT');
  const code = e?.cause?.code ?? null;
  const why = code ?? e?.cause?.message ?? e?.message ?? String(error);
  return new AlderConnectionError(`${what}: cannot reach Alder at ${baseUrl} (${why}); is it running there?`, code);
}
