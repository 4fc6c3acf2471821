import { setTimeout as sleep } from 'node:timers/promises';
import type { RequestBody, SuccessBody } from '@alder/api-types';

/** The problem type of a next-task call made before the project's first ranking exists. */
export const RANKING_PENDING = 'https://alder.dev/problems/ranking-pending';
/**
 * How often nextTask asks again while the first ranking is pending, each time after the
 * server's Retry-After: a count, not a clock, so a slow machine only takes longer.
 */
export const RANKING_PENDING_TRIES = 60;

/** An HTTP answer the simulator did not expect; the message quotes the problem+json details. */
export class ApiError extends Error {
  override name = 'ApiError';
  constructor(
    message: string,
    readonly status: number | null,
    readonly problemType?: string,
    /** The response's Retry-After, in seconds, when it had one. */
    readonly retryAfterSeconds?: number,
  ) {
    super(message);
  }
}

export interface ApiClientOptions {
  /** Labeling API base URL. */
  url: string;
  /** Ingest base URL (the same as `url` for the all-in-one). */
  ingestUrl: string;
  key: string;
  /** Per request; a hung server fails the simulation instead of hanging it. */
  requestTimeoutMs?: number;
  /** Waits between next-task calls while the first ranking is pending (default: the Retry-After seconds). */
  sleep?: (ms: number) => Promise<unknown>;
  fetch?: typeof fetch;
}

export interface ApiResponse<T> {
  status: number;
  body: T;
}

const describeProblem = (body: unknown): string => {
  if (!body || typeof body !== 'object') return '';
  const p = body as { type?: string; title?: string; detail?: string; errors?: { path: string; message: string }[] };
  const errors = p.errors?.length ? ` (${p.errors.slice(0, 5).map((e) => `${e.path}: ${e.message}`).join('; ')})` : '';
  return [p.title, p.detail].filter(Boolean).join(': ') + errors;
};

/**
 * A small client for the calls the simulator makes, typed from the OpenAPI spec. Every failure
 * (refused connection, timeout, unexpected status) throws an Error that names the call.
 */
export function createApiClient(options: ApiClientOptions) {
  const doFetch = options.fetch ?? fetch;
  const timeoutMs = options.requestTimeoutMs ?? 30_000;

  async function call<T>(base: string, method: string, path: string, body: unknown, expected: readonly number[]): Promise<ApiResponse<T>> {
    const url = base + path;
    let response: Response;
    try {
      response = await doFetch(url, {
        method,
        headers: { authorization: `Bearer ${options.key}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: AbortSignal.timeout(timeoutMs),
      });
    } catch (error) {
      const e = error as Error & { cause?: { code?: string; message?: string } };
      if (e.name === 'TimeoutError') throw new ApiError(`${method} ${url}: no answer within ${timeoutMs / 1000} s`, null);
      throw new ApiError(`${method} ${url}: cannot reach Alder (${e.cause?.code ?? e.cause?.message ?? e.message}); is it running there?`, null);
    }
    const text = await response.text();
    let parsed: unknown;
    try {
      parsed = text ? JSON.parse(text) : undefined;
    } catch {
      throw new ApiError(`${method} ${url}: answered ${response.status} with a body that is not JSON: ${text.slice(0, 200)}`, response.status);
    }
    if (!expected.includes(response.status)) {
      const problem = describeProblem(parsed);
      const hint = response.status === 401 ? ' (check --api-key)' : response.status === 403 ? ' (--api-key must be an admin key)' : '';
      const retryAfter = Number(response.headers.get('retry-after'));
      throw new ApiError(
        `${method} ${url}: expected ${expected.join(' or ')}, got ${response.status}${problem ? ` ${problem}` : ''}${hint}`,
        response.status,
        (parsed as { type?: string } | undefined)?.type,
        Number.isFinite(retryAfter) && retryAfter > 0 ? retryAfter : undefined,
      );
    }
    return { status: response.status, body: parsed as T };
  }

  const api = options.url;
  const ingest = options.ingestUrl;
  const project = (id: string) => `/v1/projects/${encodeURIComponent(id)}`;
  return {
    async ready(): Promise<void> {
      for (const base of new Set([api, ingest])) await call<unknown>(base, 'GET', '/readyz', undefined, [200]);
    },
    createProject: async (body: RequestBody<'createProject'>) => (await call<SuccessBody<'createProject'>>(api, 'POST', '/v1/projects', body, [201])).body,
    updateProject: async (id: string, body: RequestBody<'updateProject'>) =>
      (await call<SuccessBody<'updateProject'>>(api, 'PATCH', project(id), body, [200])).body,
    ingestItems: async (id: string, body: RequestBody<'ingestItems'>) =>
      (await call<SuccessBody<'ingestItems'>>(ingest, 'POST', `${project(id)}/items`, body, [200])).body,
    /**
     * The leased task, or null when no item is free (204). Right after the first items arrive
     * the API answers 503 ranking-pending until sampling has published the cold start: asked
     * again after each Retry-After, up to RANKING_PENDING_TRIES times.
     */
    nextTask: async (id: string) => {
      for (let attempt = 1; ; attempt++) {
        try {
          const r = await call<SuccessBody<'getNextTask'> | undefined>(api, 'POST', `${project(id)}/tasks/next`, {}, [200, 204]);
          return r.status === 204 ? null : r.body!;
        } catch (error) {
          if (!(error instanceof ApiError) || error.problemType !== RANKING_PENDING || attempt >= RANKING_PENDING_TRIES) throw error;
          await (options.sleep ?? sleep)((error.retryAfterSeconds ?? 1) * 1000);
        }
      }
    },
    submitAnnotation: async (taskId: string, body: RequestBody<'submitAnnotation'>) =>
      (await call<SuccessBody<'submitAnnotation'>>(api, 'POST', `/v1/tasks/${encodeURIComponent(taskId)}/annotation`, body, [201])).body,
    requestTraining: async (id: string) => (await call<SuccessBody<'requestTraining'>>(api, 'POST', `${project(id)}/train`, undefined, [202])).body,
    listModels: async (id: string, offset: number) =>
      (await call<SuccessBody<'listModels'>>(api, 'GET', `${project(id)}/models?limit=1000&offset=${offset}`, undefined, [200])).body,
    progress: async (id: string) => (await call<SuccessBody<'getProgress'>>(api, 'GET', `${project(id)}/progress`, undefined, [200])).body,
  };
}

export type ApiClient = ReturnType<typeof createApiClient>;
