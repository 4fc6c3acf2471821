import { spawn } from 'node:child_process';
import { processEntryArgs } from '@alder/compute/entry';
import type { Config } from '@alder/config';
import type { EmbeddedMessage, EmbeddedRequest } from './embedded-servers.process';

export interface EmbeddedServers {
  /** Which servers run, for the start banner. */
  names: string[];
  /** Their URLs once they answer; rejects when they cannot start. */
  ready: Promise<{ databaseUrl?: string; redisUrl?: string }>;
  /** Stops them (after their start, if it is still running) and waits for their process to end. */
  stop(): Promise<void>;
}

/**
 * Starts the embedded Postgres (no DATABASE_URL) and Redis (no REDIS_URL) of `alder start` in a
 * process of their own, detached into its own process group, so a Ctrl-C to the terminal's
 * group reaches Alder, which closes its services first and then stops the servers. The servers
 * also stop if Alder dies without asking (their process sees the IPC channel close).
 */
export function spawnEmbeddedServers(config: Config): EmbeddedServers {
  const request: EmbeddedRequest = {
    dataDir: config.DATA_DIR,
    postgresPort: config.DATABASE_URL ? undefined : config.EMBEDDED_PG_PORT,
    redisPort: config.REDIS_URL ? undefined : config.EMBEDDED_REDIS_PORT,
    logLevel: config.LOG_LEVEL,
  };
  const names = [request.postgresPort !== undefined && 'postgres', request.redisPort !== undefined && 'redis'].filter((n): n is string => Boolean(n));
  if (!names.length) return { names, ready: Promise.resolve({}), stop: async () => undefined };
  const child = spawn(process.execPath, processEntryArgs(import.meta.url, 'embedded-servers.process'), { detached: true, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null && child.connected) child.send('stop');
    await exited;
  };
  const ready = new Promise<{ databaseUrl?: string; redisUrl?: string }>((resolve, reject) => {
    const failed = (message: string) => reject(new Error(`embedded servers: ${message}`));
    child.once('error', (error) => failed(error.message));
    const exitedEarly = (code: number | null, signal: string | null) => failed(`their process exited (${signal ?? `code ${code}`}) before they were ready`);
    child.once('exit', exitedEarly);
    child.on('message', (message: EmbeddedMessage) => {
      if (message.type === 'failed') failed(message.message);
      if (message.type !== 'ready') return;
      child.removeListener('exit', exitedEarly);
      resolve({ databaseUrl: message.databaseUrl, redisUrl: message.redisUrl });
    });
    child.send(request);
  });
  return { names, ready, stop };
}
