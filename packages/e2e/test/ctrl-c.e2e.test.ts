import { spawn } from 'node:child_process';
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort } from '../src/alder-under-test';
import { waitFor } from '../src/service-process';

// `pnpm start` on a fresh machine, stopped with Ctrl-C: a terminal sends SIGINT to its whole
// foreground process group. Alder must close its services first and then its embedded Postgres
// and Redis (which run in a process group of their own, so the signal does not kill them under
// the services), and exit 0 without a stack trace.

const repoRoot = fileURLToPath(new URL('../../../', import.meta.url));
let dataDir: string;

beforeAll(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'alder-ctrl-c-'));
  // Run as root, the embedded Postgres runs as the `postgres` user, which must reach the folder.
  await chmod(dataDir, 0o755);
});
afterAll(async () => {
  await rm(dataDir, { recursive: true, force: true });
});

const listening = (port: number) =>
  new Promise<boolean>((resolve) => {
    const socket = connect({ host: '127.0.0.1', port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });

it('stops everything cleanly on SIGINT to the process group: services first, then the embedded servers, exit 0', async () => {
  const [port, pgPort, redisPort] = [await freePort(), await freePort(), await freePort()];
  const env: Record<string, string | undefined> = { ...process.env, DATA_DIR: dataDir, PORT: String(port), EMBEDDED_PG_PORT: String(pgPort), EMBEDDED_REDIS_PORT: String(redisPort), LOG_LEVEL: 'info' };
  // The newcomer's machine: no servers configured, no HOST set.
  for (const name of ['DATABASE_URL', 'REDIS_URL', 'HOST', 'ALDER_ADMIN_KEY', 'LOG_FORMAT']) delete env[name];
  const child = spawn(process.execPath, ['packages/cli/bin/alder.js', 'start'], { cwd: repoRoot, env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout!.on('data', (chunk) => (output += chunk));
  child.stderr!.on('data', (chunk) => (output += chunk));
  const exited = new Promise<{ code: number | null; signal: string | null }>((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  try {
    await waitFor('Alder is running', async () => (output.includes('Alder is running') ? true : undefined), 240_000, 200).catch((error) => {
      throw new Error(`${(error as Error).message}\n${output.slice(-4_000)}`);
    });
    // Local all-in-one: bound to loopback unless HOST says otherwise.
    expect(output).toContain(`base URL:  http://127.0.0.1:${port}`);
    expect((await fetch(`http://127.0.0.1:${port}/readyz`)).status).toBe(200);
    expect(await listening(pgPort)).toBe(true);

    process.kill(-child.pid!, 'SIGINT');
    const { code, signal } = await exited;
    expect({ code, signal }).toEqual({ code: 0, signal: null });
  } finally {
    if (child.exitCode === null) process.kill(-child.pid!, 'SIGKILL');
  }
  const afterSignal = output.slice(output.indexOf('"reason":"SIGINT"'));
  expect(afterSignal).toContain('shutdown complete');
  // No stack traces, no errors: nothing lost its server under it.
  expect(output).not.toMatch(/\n\s+at .+:\d+:\d+\)?\n/);
  expect(output).not.toMatch(/"level":(50|60)/);
  expect(output).not.toMatch(/ECONNREFUSED/);
  // And the embedded servers are gone with it.
  await waitFor('the embedded servers to stop', async () => (!(await listening(pgPort)) && !(await listening(redisPort)) ? true : undefined), 30_000);
}, 300_000);
