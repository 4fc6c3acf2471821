import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import ignore from '@balena/dockerignore';
import { createTestRedis, freePort, testServerUrl } from '@alder/testkit';
import { buildBundles, repoRoot, stageRuntime, type BuildManifest } from '../src';

// What the images run, run here: `pnpm build`, the runtime laid out as deploy/Dockerfile lays it
// out (dist/ and a flat production node_modules, installed from the store, fetching only missing metadata), and the
// bundles started from there against a database of this file's own.

const redis = createTestRedis();
const serverUrl = testServerUrl();
const database = `alder_test_bundle_${randomBytes(6).toString('hex')}`;
const databaseUrl = Object.assign(new URL(serverUrl), { pathname: `/${database}` }).toString();

let dir: string;
let app: string;
let manifest: BuildManifest;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'alder-bundle-'));
  app = join(dir, 'app');
  manifest = await buildBundles({ outDir: join(dir, 'dist') });
  stageRuntime({ outDir: app, distDir: join(dir, 'dist'), offline: true, quiet: true });
  const admin = new pg.Client({ connectionString: serverUrl });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${database}`);
  await admin.end();
}, 240_000);

afterAll(async () => {
  const admin = new pg.Client({ connectionString: serverUrl });
  await admin.connect();
  await admin.query(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`);
  await admin.end();
  await redis.cleanup();
  rmSync(dir, { recursive: true, force: true });
});

it('keeps TensorFlow.js and the compute threads out of the API-only bundles', () => {
  // labeling-api and ingest serve HTTP only: their images must never load TF.js (the CPU-heavy
  // services bring @alder/compute through their own declarations, not through the host).
  for (const bundle of ['labeling-api', 'ingest']) {
    const code = readFileSync(join(dir, 'dist', `${bundle}.js`), 'utf8');
    expect({ bundle, tensorflow: /@tensorflow\//.test(code), piscina: /from "piscina"/.test(code) }).toEqual({ bundle, tensorflow: false, piscina: false });
  }
  // ...while the trainer's does (so the check above looks at the right thing).
  expect(readFileSync(join(dir, 'dist', 'trainer.js'), 'utf8')).toMatch(/@tensorflow\//);
});

function env(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  return { PATH: process.env.PATH, DATABASE_URL: databaseUrl, REDIS_URL: redis.url, QUEUE_PREFIX: redis.prefix, LOG_LEVEL: 'info', ...extra };
}

/** Starts `node dist/<bundle>.js` in the staged runtime and collects what it prints. */
function start(bundle: string, extra: Record<string, string> = {}): { child: ChildProcess; output: () => string; exited: Promise<number | null> } {
  const child = spawn(process.execPath, [`dist/${bundle}.js`], { cwd: app, env: env(extra), stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return { child, output: () => output, exited };
}

// Generous: these hold on a machine ten times slower than a quiet laptop.
async function until(what: string, check: () => Promise<boolean> | boolean, output: () => string, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await Promise.resolve().then(check).catch(() => false))) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; output:\n${output()}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

it('alder --help and --version run from the bundle', () => {
  const run = spawnSync(process.execPath, ['dist/alder.js', '--help'], { cwd: app, env: env(), encoding: 'utf8' });
  expect(run.stderr).toBe('');
  expect(run.status).toBe(0);
  expect(run.stdout).toMatch(/^usage: alder/);
  const version = spawnSync(process.execPath, ['dist/alder.js', '--version'], { cwd: app, env: env(), encoding: 'utf8' });
  const { version: expected } = JSON.parse(readFileSync(join(repoRoot, 'packages/cli/package.json'), 'utf8')) as { version: string };
  expect([version.status, version.stdout.trim()]).toEqual([0, expected]);
});

it('alder migrate applies the migrations the build copied', () => {
  const run = spawnSync(process.execPath, ['dist/alder.js', 'migrate'], { cwd: app, env: env(), encoding: 'utf8', timeout: 120_000 });
  expect([run.status, run.stderr]).toEqual([0, '']);
  const copied = readdirSync(join(app, 'dist/migrations')).sort();
  const sources = readdirSync(join(repoRoot, 'packages/db/migrations')).filter((f) => f.endsWith('.sql')).sort();
  expect(copied).toEqual(sources);
  for (const name of copied) expect(run.stdout).toContain(name);
}, 150_000);

it('labeling-api serves the spec and readiness from the bundle and stops on SIGTERM with 0', async () => {
  const port = await freePort();
  const service = start('labeling-api', { PORT: String(port), HOST: '127.0.0.1' });
  try {
    const base = `http://127.0.0.1:${port}`;
    await until('labeling-api to be ready', async () => (await fetch(`${base}/readyz`)).ok, service.output);
    const spec = (await (await fetch(`${base}/openapi.json`)).json()) as { openapi: string };
    expect(spec.openapi).toMatch(/^3\.1\./);
    service.child.kill('SIGTERM');
    expect(await service.exited).toBe(0);
  } finally {
    service.child.kill('SIGKILL');
  }
}, 150_000);

it('the trainer starts its compute threads from the sibling thread bundle and stops on SIGTERM with 0', async () => {
  const service = start('trainer', { COMPUTE_THREADS: '1' });
  try {
    await until('the trainer to run', () => /running/.test(service.output()), service.output);
    // The TF.js backend is chosen on a compute thread: it answered, so dist/compute.thread.js loaded.
    expect(service.output()).toMatch(/backend/);
    service.child.kill('SIGTERM');
    expect(await service.exited).toBe(0);
  } finally {
    service.child.kill('SIGKILL');
  }
}, 150_000);

it('the Docker build context holds every file the build read', () => {
  const ignored = ignore().add(readFileSync(join(repoRoot, '.dockerignore'), 'utf8').split('\n'));
  expect(manifest.inputs.length).toBeGreaterThan(0);
  expect(manifest.inputs.filter((input) => ignored.ignores(input))).toEqual([]);
});
