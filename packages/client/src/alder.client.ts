import createClient, { type Client } from 'openapi-fetch';
import type { paths, QueryParams, RequestBody, Schemas } from '@alder/api-types';
import { apiErrorFrom, connectionErrorFrom } from './errors';
import { idempotencyMiddleware } from './idempotency';
import { ingestStream, type IngestStreamOptions, type NdjsonSource } from './ingest.stream';
import { sendWithRetries, type RetryOptions } from './retry';

export interface AlderClientOptions {
  /** Alder's base URL (`http://localhost:8080`); with the services run apart, the labeling API's. */
  baseUrl: string;
  /** The ingest service's base URL when it runs apart (default: `baseUrl`). */
  ingestUrl?: string;
  apiKey: string;
  retry?: RetryOptions;
  /** Per try of a request with a bounded answer (default 30 s); streamed uploads and downloads have none. */
  timeoutMs?: number;
  fetch?: typeof fetch;
}

type Sent<D> = { data?: D; error?: unknown; response: Response };

const trim = (url: string) => url.replace(/\/+$/, '');

/**
 * A typed client of Alder's API: `api` is an openapi-fetch client over the generated `paths`
 * (every operation, typed), and the methods beside it cover the common calls and throw
 * AlderApiError / AlderConnectionError instead of returning an error. Every request carries the
 * key; every POST an Idempotency-Key, the same on each retry; 429 and 503 are retried.
 */
export function createAlderClient(options: AlderClientOptions) {
  const baseUrl = trim(options.baseUrl);
  const ingestUrl = trim(options.ingestUrl ?? options.baseUrl);
  const baseFetch = options.fetch ?? fetch;
  const timeoutMs = options.timeoutMs ?? 30_000;
  const auth = { authorization: `Bearer ${options.apiKey}` };

  /** A fetch that retries, each try bounded by `limitMs` (null: no bound, for streamed bodies). */
  const retryingFetch =
    (limitMs: number | null) =>
    (request: Request): Promise<Response> =>
      sendWithRetries(
        // A clone per try: the original's body stays unread for the next one.
        () => request.clone(),
        (r) => baseFetch(r, limitMs === null ? undefined : { signal: AbortSignal.any([r.signal, AbortSignal.timeout(limitMs)]) }),
        options.retry,
      );

  const api: Client<paths> = createClient<paths>({ baseUrl, headers: auth, fetch: retryingFetch(timeoutMs) });
  api.use(idempotencyMiddleware);
  const streamingFetch = retryingFetch(null);

  /** Runs one call: its data on 2xx, else the error as a thrown AlderError naming `what`. */
  async function call<D>(what: string, base: string, send: () => Promise<Sent<D>>): Promise<D> {
    let sent: Sent<D>;
    try {
      sent = await send();
    } catch (error) {
      throw connectionErrorFrom(what, base, error);
    }
    if (!sent.response.ok) throw apiErrorFrom(what, sent.response, sent.error);
    return sent.data as D;
  }

  const project = (project_id: string) => ({ params: { path: { project_id } } });

  return {
    /** The raw openapi-fetch client, for the operations without a method here. */
    api,
    baseUrl,
    ingestUrl,

    /** Resolves when every base URL answers /readyz with 200 (Postgres and Redis reachable). */
    async ready(): Promise<void> {
      for (const base of new Set([baseUrl, ingestUrl])) {
        await call('readiness', base, async () => {
          const response = await baseFetch(`${base}/readyz`, { signal: AbortSignal.timeout(timeoutMs) });
          return { response, error: await response.text() };
        });
      }
    },

    listProjects: (query: QueryParams<'listProjects'> = {}) => call('list projects', baseUrl, () => api.GET('/v1/projects', { params: { query } })),
    createProject: (body: RequestBody<'createProject'>) => call('create project', baseUrl, () => api.POST('/v1/projects', { body })),
    getProject: (id: string) => call(`project ${id}`, baseUrl, () => api.GET('/v1/projects/{project_id}', project(id))),
    updateProject: (id: string, body: RequestBody<'updateProject'>) =>
      call(`update project ${id}`, baseUrl, () => api.PATCH('/v1/projects/{project_id}', { ...project(id), body })),
    deleteProject: (id: string) => call(`delete project ${id}`, baseUrl, () => api.DELETE('/v1/projects/{project_id}', project(id))),

    listApiKeys: () => call('list API keys', baseUrl, () => api.GET('/v1/api-keys')),
    createApiKey: (body: RequestBody<'createApiKey'>) => call('create API key', baseUrl, () => api.POST('/v1/api-keys', { body })),
    revokeApiKey: (key_id: string) =>
      call(`revoke API key ${key_id}`, baseUrl, () => api.DELETE('/v1/api-keys/{key_id}', { params: { path: { key_id } } })),

    /** A JSON batch: in one transaction, or refused whole (422 listing every bad row). */
    ingestItems: (id: string, body: RequestBody<'ingestItems'>) =>
      call(`ingest into project ${id}`, ingestUrl, () => api.POST('/v1/projects/{project_id}/items', { ...project(id), body, baseUrl: ingestUrl })),
    /**
     * An NDJSON stream of any size (gzip-compressed by default): good lines land, bad ones are
     * listed by line number. `open` is called once per try, since a stream is read once.
     */
    ingestStream: (id: string, open: () => NdjsonSource, streamOptions: IngestStreamOptions = {}) =>
      call(`ingest into project ${id}`, ingestUrl, async () => {
        const response = await ingestStream({ url: `${ingestUrl}/v1/projects/${encodeURIComponent(id)}/items`, headers: auth, fetch: baseFetch, retry: options.retry }, open, streamOptions);
        const text = await response.text();
        const body = text ? (JSON.parse(text) as unknown) : undefined;
        return response.ok ? { response, data: body as Schemas['IngestResult'] } : { response, error: body };
      }),
    listBatches: (id: string, query: QueryParams<'listBatches'> = {}) =>
      call(`batches of project ${id}`, ingestUrl, () => api.GET('/v1/projects/{project_id}/batches', { params: { path: { project_id: id }, query }, baseUrl: ingestUrl })),
    getBatch: (id: string, batch_id: string) =>
      call(`batch ${batch_id}`, ingestUrl, () =>
        api.GET('/v1/projects/{project_id}/batches/{batch_id}', { params: { path: { project_id: id, batch_id } }, baseUrl: ingestUrl }),
      ),

    /** The export as a byte stream (JSON lines or CSV), read as it arrives: flat memory whatever its size. */
    exportLabels: (id: string, query: QueryParams<'exportLabels'> = {}) =>
      call(`export of project ${id}`, baseUrl, async () => {
        const sent = await api.GET('/v1/projects/{project_id}/export', { params: { path: { project_id: id }, query }, parseAs: 'stream', fetch: streamingFetch });
        return sent as Sent<ReadableStream<Uint8Array>>;
      }),

    /** The next task leased to the key's user, or null when no item is free (204). */
    nextTask: async (id: string) =>
      (await call(`next task in project ${id}`, baseUrl, () => api.POST('/v1/projects/{project_id}/tasks/next', { ...project(id), body: {} }))) ?? null,
    submitAnnotation: (task_id: string, body: RequestBody<'submitAnnotation'>) =>
      call(`annotation of task ${task_id}`, baseUrl, () => api.POST('/v1/tasks/{task_id}/annotation', { params: { path: { task_id } }, body })),
    requestTraining: (id: string) => call(`training of project ${id}`, baseUrl, () => api.POST('/v1/projects/{project_id}/train', project(id))),
    listModels: (id: string, query: QueryParams<'listModels'> = {}) =>
      call(`models of project ${id}`, baseUrl, () => api.GET('/v1/projects/{project_id}/models', { params: { path: { project_id: id }, query } })),
    getProgress: (id: string) => call(`progress of project ${id}`, baseUrl, () => api.GET('/v1/projects/{project_id}/progress', project(id))),
  };
}

/** A client made by createAlderClient. */
export type AlderClient = ReturnType<typeof createAlderClient>;
