import { resolve } from 'node:path';
import { runSimulateCommand } from '../src/simulate/simulate.command';
import { parseSimulateArgs, UsageError, type SimulateOptions } from '../src/simulate/simulate.args';

const NAMES = ['random', 'least_confidence', 'margin', 'entropy'];
const base = ['--train', 'data/trec/train.jsonl', '--test', 'data/trec/test.jsonl'];
const parse = (...extra: string[]) => parseSimulateArgs([...base, ...extra], NAMES) as SimulateOptions;
const usageError = (args: string[], pattern: RegExp) => {
  expect(() => parseSimulateArgs(args, NAMES)).toThrow(UsageError);
  expect(() => parseSimulateArgs(args, NAMES)).toThrow(pattern);
};

describe('parseSimulateArgs', () => {
  it('applies the defaults', () => {
    const o = parse();
    expect(o).toMatchObject({ strategies: NAMES, initial: 25, batch: 25, budget: 2000, repeats: 5, seed: 1, api: null, notes: [] });
    expect(o.out).toBe(resolve('.sim/trec'));
    expect(o.jobs).toBeGreaterThanOrEqual(1);
  });

  it('reads every option', () => {
    const o = parse('--strategies', 'random, margin', '--initial', '10', '--batch', '5', '--budget', '50', '--repeats', '2', '--seed', '7', '--out', 'x', '--jobs', '3');
    expect(o).toMatchObject({ strategies: ['random', 'margin'], initial: 10, batch: 5, budget: 50, repeats: 2, seed: 7, out: resolve('x'), jobs: 3 });
  });

  it('accepts any strategy the learning package lists, and adds the random baseline', () => {
    const o = parseSimulateArgs([...base, '--strategies', 'auto,margin'], [...NAMES, 'auto']) as SimulateOptions;
    expect(o.strategies).toEqual(['random', 'auto', 'margin']);
    expect(o.notes.join()).toMatch(/baseline/);
  });

  it('refuses unknown strategies and lists the valid ones', () => {
    usageError([...base, '--strategies', 'margin,bald'], /unknown strategy "bald"; valid strategies: random, least_confidence, margin, entropy/);
    usageError([...base, '--strategies', ','], /--strategies is empty/);
  });

  it('refuses missing files, bad numbers and unknown options', () => {
    usageError(['--test', 'e.jsonl'], /--train is required/);
    usageError(['--train', 't.jsonl'], /--test is required/);
    usageError([...base, '--batch', '0'], /--batch must be between 1/);
    usageError([...base, '--budget', 'lots'], /--budget must be a whole number, got "lots"/);
    usageError([...base, '--repeats', '2.5'], /--repeats must be a whole number/);
    usageError([...base, '--initial', '30', '--budget', '20'], /--budget \(20\) must be at least --initial \(30\)/);
    usageError([...base, '--bogus'], /Unknown option '--bogus'/);
    usageError([...base, 'extra'], /positional argument/);
    usageError([...base, '--budget'], /argument missing/);
  });

  it('reads the --api options and refuses them without --api', () => {
    const o = parse('--api', 'http://localhost:8080/', '--api-key', 'k', '--annotators', '4', '--wait-timeout', '30');
    expect(o.api).toEqual({ url: 'http://localhost:8080', ingestUrl: 'http://localhost:8080', key: 'k', annotators: 4, waitTimeoutMs: 30_000, initial: 'import' });
    usageError([...base, '--api', 'http://x'], /--api needs an admin API key .*: set ALDER_API_KEY, or pass --api-key KEY/);
    usageError([...base, '--api', 'ftp://x', '--api-key', 'k'], /--api must be an http\(s\) URL/);
    usageError([...base, '--api', 'http://x', '--api-key', 'k', '--jobs', '2'], /--jobs applies to in-process runs only/);
    usageError([...base, '--api', 'http://x', '--api-key', 'k', '--api-initial', 'maybe'], /--api-initial must be/);
    usageError([...base, '--api-key', 'k'], /--api-key only applies with --api URL/);
  });

  it('takes the --api key from ALDER_API_KEY, and --api-key over it', () => {
    const args = [...base, '--api', 'http://x'];
    const fromEnv = parseSimulateArgs(args, NAMES, { ALDER_API_KEY: 'from-env' }) as SimulateOptions;
    expect(fromEnv.api?.key).toBe('from-env');
    const both = parseSimulateArgs([...args, '--api-key', 'from-flag'], NAMES, { ALDER_API_KEY: 'from-env' }) as SimulateOptions;
    expect(both.api?.key).toBe('from-flag');
    // An empty variable is no key; without --api the variable is simply not used.
    expect(() => parseSimulateArgs(args, NAMES, { ALDER_API_KEY: '' })).toThrow(/needs an admin API key/);
    expect((parseSimulateArgs(base, NAMES, { ALDER_API_KEY: 'k' }) as SimulateOptions).api).toBeNull();
  });

  it('reads no environment it is not given', () => {
    process.env.ALDER_API_KEY = 'from-process-env';
    try {
      expect(() => parseSimulateArgs([...base, '--api', 'http://x'], NAMES)).toThrow(/needs an admin API key/);
    } finally {
      delete process.env.ALDER_API_KEY;
    }
  });

  it('returns help for -h', () => {
    expect(parseSimulateArgs(['-h'], NAMES)).toBe('help');
  });
});

describe('runSimulateCommand on bad input', () => {
  const io = () => {
    const out = { stdout: '', stderr: '' };
    return { out, io: { stdout: { write: (s: string) => (out.stdout += s) }, stderr: { write: (s: string) => (out.stderr += s) } } };
  };

  it('exits 2 with the problem on stderr for bad arguments', async () => {
    const { out, io: streams } = io();
    expect(await runSimulateCommand(['--train', 'a', '--test', 'b', '--strategies', 'nope'], streams)).toBe(2);
    expect(out.stderr).toMatch(/^alder simulate: unknown strategy "nope"; valid strategies: random/);
    expect(out.stdout).toBe('');
  });

  it('exits 2 naming a file that can not be read', async () => {
    const { out, io: streams } = io();
    expect(await runSimulateCommand(['--train', '/nonexistent/train.jsonl', '--test', 'b'], streams)).toBe(2);
    expect(out.stderr).toMatch(/cannot read \/nonexistent\/train.jsonl: ENOENT/);
  });

  it('takes the --api key from the env it is given', async () => {
    const args = ['--train', '/nonexistent/train.jsonl', '--test', 'b', '--api', 'http://127.0.0.1:9'];
    const without = io();
    expect(await runSimulateCommand(args, without.io)).toBe(2);
    expect(without.out.stderr).toMatch(/needs an admin API key/);
    const withKey = io();
    expect(await runSimulateCommand(args, withKey.io, { ALDER_API_KEY: 'k' })).toBe(2);
    expect(withKey.out.stderr).toMatch(/cannot read \/nonexistent\/train.jsonl/);
  });

  it('prints the usage for --help', async () => {
    const { out, io: streams } = io();
    expect(await runSimulateCommand(['--help'], streams)).toBe(0);
    expect(out.stdout).toMatch(/^usage: alder simulate --train/);
  });
});
