import { spawn, type ChildProcess } from 'node:child_process';
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort } from '@alder/testkit';
import { waitFor } from '../src/service-process';

// `pnpm start` on a fresh machine, stopped with Ctrl-C: a terminal sends SIGINT to its whole
// foreground process group (pnpm, and Alder under it). Alder must close its services first and
// then its embedded Postgres and Redis (which run in a process group of their own, so the signal
// does not kill them under the services), and exit 0 without a stack trace, and so must pnpm.

const repoRoot = fileURLToPath(new URL('../../../', import.meta.url));
const dataDirs: string[] = [];

afterAll(async () => {
  await Promise.all(dataDirs.map((dir) => rm(dir, { recursive: true, force: true })));
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

interface Started {
  child: ChildProcess;
  output(): string;
  exited: Promise<{ code: number | null; signal: string | null }>;
  port: number;
  pgPort: number;
  redisPort: number;
}

/** `pnpm start` (or `node bin/alder.js start`) in a process group of its own, as a terminal runs it. */
async function start(command: 'pnpm' | 'node'): Promise<Started> {
  const dataDir = await mkdtemp(join(tmpdir(), 'alder-ctrl-c-'));
  dataDirs.push(dataDir);
  // Run as root, the embedded Postgres runs as the `postgres` user, which must reach the folder.
  await chmod(dataDir, 0o755);
  const [port, pgPort, redisPort] = [await freePort(), await freePort(), await freePort()];
  const env: Record<string, string | undefined> = { ...process.env, DATA_DIR: dataDir, PORT: String(port), EMBEDDED_PG_PORT: String(pgPort), EMBEDDED_REDIS_PORT: String(redisPort), LOG_LEVEL: 'info' };
  // The newcomer's machine: no servers configured, no HOST set.
  for (const name of ['DATABASE_URL', 'REDIS_URL', 'HOST', 'ALDER_ADMIN_KEY', 'LOG_FORMAT']) delete env[name];
  const args = command === 'pnpm' ? ['start'] : ['packages/cli/bin/alder.js', 'start'];
  const child = spawn(command === 'pnpm' ? 'pnpm' : process.execPath, args, { cwd: repoRoot, env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout!.on('data', (chunk) => (output += chunk));
  child.stderr!.on('data', (chunk) => (output += chunk));
  const exited = new Promise<{ code: number | null; signal: string | null }>((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  return { child, output: () => output, exited, port, pgPort, redisPort };
}

const waitForLine = (run: Started, text: string) =>
  waitFor(text, async () => (run.output().includes(text) ? true : undefined), 240_000, 200).catch((error) => {
    throw new Error(`${(error as Error).message}\n${run.output().slice(-4_000)}`);
  });

function expectCleanOutput(output: string): void {
  // No stack traces, no errors: nothing lost its server under it.
  expect(output).not.toMatch(/\n\s+at .+:\d+:\d+\)?\n/);
  expect(output).not.toMatch(/"level":(50|60)/);
  expect(output).not.toMatch(/ECONNREFUSED|ELIFECYCLE/);
}

/** Runs `steps` against a started Alder; whatever happens, its process group does not outlive them. */
async function driving(run: Started, steps: () => Promise<void>): Promise<void> {
  try {
    await steps();
  } finally {
    if (run.child.exitCode === null && run.child.signalCode === null) process.kill(-run.child.pid!, 'SIGKILL');
  }
}

async function expectServersGone(run: Started): Promise<void> {
  await waitFor('the embedded servers to stop', async () => (!(await listening(run.pgPort)) && !(await listening(run.redisPort)) ? true : undefined), 60_000);
}

it('pnpm start, then Ctrl-C: services close first, then the embedded servers, and pnpm exits 0', async () => {
  const run = await start('pnpm');
  await driving(run, async () => {
    await waitForLine(run, 'Alder is running');
    // Local all-in-one: bound to loopback unless HOST says otherwise.
    expect(run.output()).toContain(`base URL:  http://127.0.0.1:${run.port}`);
    expect((await fetch(`http://127.0.0.1:${run.port}/readyz`)).status).toBe(200);
    expect(await listening(run.pgPort)).toBe(true);
    process.kill(-run.child.pid!, 'SIGINT');
    expect(await run.exited).toEqual({ code: 0, signal: null });
  });
  const output = run.output();
  const afterSignal = output.slice(output.indexOf('"reason":"SIGINT"'));
  expect(afterSignal).toContain('shutdown complete');
  expectCleanOutput(output);
  await expectServersGone(run);
}, 300_000);

it('Ctrl-C during the first start (initdb running) stops the half-started servers too, exit 0', async () => {
  const run = await start('node');
  await driving(run, async () => {
    await waitForLine(run, 'initialising embedded Postgres');
    process.kill(-run.child.pid!, 'SIGINT');
    expect(await run.exited).toEqual({ code: 0, signal: null });
  });
  expect(run.output()).not.toContain('Alder is running');
  expectCleanOutput(run.output());
  await expectServersGone(run);
}, 300_000);

it('stops the embedded servers when Alder dies without asking', async () => {
  const run = await start('node');
  await driving(run, async () => {
    await waitForLine(run, 'Alder is running');
    run.child.kill('SIGKILL');
    expect(await run.exited).toEqual({ code: null, signal: 'SIGKILL' });
  });
  // The servers' process sees its IPC channel close and stops them.
  await expectServersGone(run);
}, 300_000);
