import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

// The `alder` command as a user runs it: a child process of bin/alder.js.
const bin = fileURLToPath(new URL('../bin/alder.js', import.meta.url));
const { version } = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string };
// Only what the command needs: no DATABASE_URL or anything else from the test's environment.
const baseEnv = { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '' };

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

async function alder(args: string[], env: Record<string, string> = {}): Promise<Run> {
  try {
    const { stdout, stderr } = await promisify(execFile)(process.execPath, [bin, ...args], { env: { ...baseEnv, ...env } });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code?: number; stdout?: string; stderr?: string };
    return { code: e.code ?? -1, stdout: e.stdout ?? '', stderr: e.stderr ?? '' };
  }
}

// Each run starts a Node process that loads tsx: seconds on a busy machine, never a minute.
const CHILD_TIMEOUT_MS = 120_000;

it('alder --version and -v print the version of @alder/cli and exit 0', async () => {
  expect(version).toMatch(/^\d+\.\d+\.\d+/);
  for (const flag of ['--version', '-v']) {
    expect(await alder([flag])).toEqual({ code: 0, stdout: `${version}\n`, stderr: '' });
  }
}, CHILD_TIMEOUT_MS);

it('alder with an unknown command or option exits 2 and says so in one line', async () => {
  const option = await alder(['--verison']);
  expect(option).toMatchObject({ code: 2, stdout: '', stderr: "alder: unknown option '--verison'\n(Did you mean --version?)\n" });
  const command = await alder(['frobnicate']);
  expect(command).toMatchObject({ code: 2, stderr: "alder: unknown command 'frobnicate'\n" });
}, CHILD_TIMEOUT_MS);

it('alder and alder --help list the commands', async () => {
  for (const args of [[], ['--help']]) {
    const run = await alder(args);
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/^usage: alder <command> \[options\]\n/);
    for (const command of ['start', 'migrate', 'simulate', 'ingest', 'export', 'batches', 'projects', 'keys']) expect(run.stdout).toMatch(new RegExp(`^  ${command} `, 'm'));
  }
}, CHILD_TIMEOUT_MS);

it('alder simulate --api takes the key from ALDER_API_KEY', async () => {
  const args = ['simulate', '--train', '/nonexistent/train.jsonl', '--test', 'e.jsonl', '--api', 'http://127.0.0.1:9'];
  const without = await alder(args);
  expect(without.code).toBe(2);
  expect(without.stderr).toMatch(/needs an admin API key .*set ALDER_API_KEY/);
  // With the key the arguments are complete: what fails next is the missing file.
  const withKey = await alder(args, { ALDER_API_KEY: 'alder_test_key' });
  expect(withKey.code).toBe(2);
  expect(withKey.stderr).toMatch(/cannot read \/nonexistent\/train.jsonl/);
}, CHILD_TIMEOUT_MS);
