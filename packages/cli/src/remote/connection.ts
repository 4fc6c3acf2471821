import { createAlderClient, type AlderClient, type RetryInfo } from '@alder/client';
import { CliUsageError, type CliEnv, type CliIo } from './cli-io';

/** The options every remote command takes (flags win over the environment). */
export interface ConnectionFlags {
  url?: string;
  ingestUrl?: string;
  apiKey?: string;
}

/** Where `pnpm start` listens by default. */
export const DEFAULT_URL = 'http://127.0.0.1:8080';

function checkUrl(value: string, from: string): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new CliUsageError(`${from} is not a URL: ${JSON.stringify(value)} (e.g. ${DEFAULT_URL})`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new CliUsageError(`${from} must be an http:// or https:// URL, not ${JSON.stringify(value)}`);
  return value;
}

/**
 * The client for a remote command: the URL from --url, else ALDER_URL, else where `pnpm start`
 * listens; the key from --api-key, else ALDER_API_KEY (which stays out of `ps` and the shell
 * history). Retries are told on stderr, so a wait does not look like a hang.
 */
export function connect(flags: ConnectionFlags, env: CliEnv, io: CliIo): AlderClient {
  const url = checkUrl(flags.url ?? env.ALDER_URL ?? DEFAULT_URL, flags.url ? '--url' : env.ALDER_URL ? 'ALDER_URL' : 'the default URL');
  const ingestUrl = flags.ingestUrl ?? env.ALDER_INGEST_URL;
  if (ingestUrl) checkUrl(ingestUrl, flags.ingestUrl ? '--ingest-url' : 'ALDER_INGEST_URL');
  const apiKey = flags.apiKey ?? env.ALDER_API_KEY;
  if (!apiKey) throw new CliUsageError('needs an API key: set ALDER_API_KEY (or pass --api-key KEY)');
  const onRetry = (r: RetryInfo) =>
    io.stderr.write(`alder: ${new URL(r.url).pathname} answered ${r.status}; trying again in ${(r.waitMs / 1000).toFixed(1)} s (try ${r.attempt})\n`);
  return createAlderClient({ baseUrl: url, ingestUrl, apiKey, retry: { onRetry } });
}
