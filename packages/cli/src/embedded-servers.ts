import { spawn } from 'node:child_process';
import type { Config } from '@alder/config';
import type { EmbeddedMessage, EmbeddedRequest } from './embedded-servers.process';

export interface EmbeddedServers {
  databaseUrl?: string;
  redisUrl?: string;
  /** Which servers run, for the start banner. */
  names: string[];
  stop(): Promise<void>;
}

/** How to run a sibling entry as a Node process: `.ts` through tsx from source, `.js` when compiled. */
function processArgs(name: string): string[] {
  const here = new URL(import.meta.url);
  if (here.pathname.endsWith('.ts')) return ['--import', import.meta.resolve('tsx'), new URL(`./${name}.ts`, here).pathname];
  return [new URL(`./${name}.js`, here).pathname];
}

/**
 * Starts the embedded Postgres (no DATABASE_URL) and Redis (no REDIS_URL) of `alder start` in a
 * process of their own, detached into its own process group, so a Ctrl-C to the terminal's
 * group reaches Alder, which closes its services first and then stops the servers. The servers
 * also stop if Alder dies without asking (their process sees the IPC channel close).
 */
export function startEmbeddedServers(config: Config): Promise<EmbeddedServers> {
  const request: EmbeddedRequest = {
    dataDir: config.DATA_DIR,
    postgresPort: config.DATABASE_URL ? undefined : config.EMBEDDED_PG_PORT,
    redisPort: config.REDIS_URL ? undefined : config.EMBEDDED_REDIS_PORT,
    logLevel: config.LOG_LEVEL,
  };
  const names = [request.postgresPort !== undefined && 'postgres', request.redisPort !== undefined && 'redis'].filter((n): n is string => Boolean(n));
  if (!names.length) return Promise.resolve({ names, stop: async () => undefined });
  const child = spawn(process.execPath, processArgs('embedded-servers.process'), { detached: true, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null && child.connected) child.send('stop');
    await exited;
  };
  return new Promise((resolve, reject) => {
    const failed = (message: string) => reject(new Error(`embedded servers: ${message}`));
    child.once('error', (error) => failed(error.message));
    const exitedEarly = (code: number | null, signal: string | null) => failed(`their process exited (${signal ?? `code ${code}`}) before they were ready`);
    child.once('exit', exitedEarly);
    child.on('message', (message: EmbeddedMessage) => {
      if (message.type === 'failed') failed(message.message);
      if (message.type !== 'ready') return;
      child.removeListener('exit', exitedEarly);
      resolve({ databaseUrl: message.databaseUrl, redisUrl: message.redisUrl, names, stop });
    });
    child.send(request);
  });
}
