import { createAlderClient, type AlderClient, type RetryOptions } from '@alder/client';

/**
 * How often a call is tried while Alder answers 503 or 429, each time after its Retry-After:
 * `tasks/next` answers 503 ranking-pending until sampling has published the cold start, which
 * takes longer on a slow machine. A count, not a clock, so a slow machine only takes longer.
 */
export const RANKING_PENDING_TRIES = 60;

export interface SimulatorClientOptions {
  /** Labeling API base URL. */
  url: string;
  /** Ingest base URL (the same as `url` for the all-in-one). */
  ingestUrl: string;
  key: string;
  /** Waits between tries (tests record them instead). */
  sleep?: RetryOptions['sleep'];
  fetch?: typeof fetch;
}

/** The simulator's client of a running Alder: `@alder/client`, patient with a busy server. */
export function createSimulatorClient(options: SimulatorClientOptions): AlderClient {
  return createAlderClient({
    baseUrl: options.url,
    ingestUrl: options.ingestUrl,
    apiKey: options.key,
    retry: { attempts: RANKING_PENDING_TRIES, sleep: options.sleep },
    fetch: options.fetch,
  });
}
