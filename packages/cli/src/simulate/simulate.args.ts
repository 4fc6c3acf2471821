import { availableParallelism } from 'node:os';
import { basename, dirname, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { BASELINE } from './summary.metrics';

export const SIMULATE_USAGE = `usage: alder simulate --train T.jsonl --test E.jsonl [options]

Runs the active-learning loop on a labeled dataset with the labels hidden from the strategy,
and compares strategies against random. JSONL lines are {"text": ..., "label": ...}.

options:
  --strategies a,b,..   strategies to compare (default: every one the learning package has);
                        random, the baseline, is always included
  --initial N           labels chosen by the cold start before the first model (default 25)
  --batch N             labels revealed per round (default 25)
  --budget N            stop at this many labels, or when the pool is empty (default 2000)
  --repeats N           paired repeats: repeat i starts every strategy from the same initial
                        set, seed + i (default 5)
  --seed N              base seed (default 1)
  --out DIR             where results.json and learning-curve.svg go
                        (default .sim/<dataset folder>, which git ignores)
  --jobs N              runs in parallel worker threads (default: CPU count; in-process only)
  --api URL             drive a running Alder through its HTTP API instead of in-process
  --api-key KEY         admin API key for --api; prefer the ALDER_API_KEY environment
                        variable, which stays out of the shell history and the process list
  --ingest-url URL      ingest service base URL when it is not the --api one
  --annotators N        simulated annotators working concurrently with --api (default 3)
  --wait-timeout S      seconds to wait for each model version with --api (default 600)
  --api-initial MODE    'import' (default): the paired initial set is ingested with its labels;
                        'annotate': annotators label the service's own cold-start picks
                        (not paired across strategies)
  -h, --help            show this help
`;

/** The environment variable `--api` takes its key from when `--api-key` is not given. */
export const API_KEY_VARIABLE = 'ALDER_API_KEY';

/** The part of the environment the simulator reads. */
export type SimulateEnv = Readonly<Record<string, string | undefined>>;

/** A bad command line: the message says what is wrong; the command exits with status 2. */
export class UsageError extends Error {
  override name = 'UsageError';
}

export interface ApiOptions {
  url: string;
  ingestUrl: string;
  key: string;
  annotators: number;
  waitTimeoutMs: number;
  initial: 'import' | 'annotate';
}

export interface SimulateOptions {
  train: string;
  test: string;
  strategies: string[];
  initial: number;
  batch: number;
  budget: number;
  repeats: number;
  seed: number;
  out: string;
  jobs: number;
  api: ApiOptions | null;
  /** Things the user should know about how their arguments were read. */
  notes: string[];
}

const OPTIONS = {
  train: { type: 'string' },
  test: { type: 'string' },
  strategies: { type: 'string' },
  initial: { type: 'string' },
  batch: { type: 'string' },
  budget: { type: 'string' },
  repeats: { type: 'string' },
  seed: { type: 'string' },
  out: { type: 'string' },
  jobs: { type: 'string' },
  api: { type: 'string' },
  'api-key': { type: 'string' },
  'ingest-url': { type: 'string' },
  annotators: { type: 'string' },
  'wait-timeout': { type: 'string' },
  'api-initial': { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

const API_ONLY = ['api-key', 'ingest-url', 'annotators', 'wait-timeout', 'api-initial'] as const;

function integer(name: string, raw: string | undefined, fallback: number, min: number, max = 2 ** 31 - 1): number {
  if (raw === undefined) return fallback;
  if (!/^\d+$/.test(raw.trim())) throw new UsageError(`--${name} must be a whole number, got "${raw}"`);
  const value = Number(raw.trim());
  if (value < min || value > max) throw new UsageError(`--${name} must be between ${min} and ${max}, got ${value}`);
  return value;
}

function httpUrl(name: string, raw: string): string {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new UsageError(`--${name} must be a URL such as http://localhost:8080, got "${raw}"`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new UsageError(`--${name} must be an http(s) URL, got "${raw}"`);
  return url.href.replace(/\/+$/, '');
}

function readOptions(argv: readonly string[]) {
  try {
    return parseArgs({ args: [...argv], options: OPTIONS, strict: true, allowPositionals: false }).values;
  } catch (error) {
    // node:util's messages are clear; its hint about positionals is not, here.
    throw new UsageError((error as Error).message.replace(/\. To specify a positional argument.*$/s, ''));
  }
}

/**
 * Reads `alder simulate` arguments. `available` is the learning package's STRATEGY_NAMES at run
 * time (other strategies get added there), so any of them is accepted. `env` is where
 * ALDER_API_KEY comes from (`--api-key` wins over it). Returns 'help' for -h/--help; throws
 * UsageError with a message naming the problem.
 */
export function parseSimulateArgs(argv: readonly string[], available: readonly string[], env: SimulateEnv = {}): SimulateOptions | 'help' {
  const values = readOptions(argv);
  if (values.help) return 'help';
  if (!values.train) throw new UsageError('--train is required (a JSONL file of {"text", "label"} lines)');
  if (!values.test) throw new UsageError('--test is required (a JSONL file of {"text", "label"} lines)');

  const notes: string[] = [];
  const valid = available.join(', ');
  let strategies = [...available];
  if (values.strategies !== undefined) {
    strategies = [...new Set(values.strategies.split(',').map((s) => s.trim()).filter(Boolean))];
    if (strategies.length === 0) throw new UsageError(`--strategies is empty; valid strategies: ${valid}`);
    const unknown = strategies.filter((s) => !available.includes(s));
    if (unknown.length) {
      throw new UsageError(`unknown strateg${unknown.length > 1 ? 'ies' : 'y'} ${unknown.map((s) => `"${s}"`).join(', ')}; valid strategies: ${valid}`);
    }
  }
  if (!strategies.includes(BASELINE)) {
    if (!available.includes(BASELINE)) throw new UsageError(`the learning package has no "${BASELINE}" strategy to compare against`);
    strategies.unshift(BASELINE);
    notes.push(`added "${BASELINE}": it is the baseline every strategy is compared with`);
  }

  const initial = integer('initial', values.initial, 25, 1);
  const batch = integer('batch', values.batch, 25, 1);
  const budget = integer('budget', values.budget, 2000, 1);
  if (budget < initial) throw new UsageError(`--budget (${budget}) must be at least --initial (${initial})`);
  const repeats = integer('repeats', values.repeats, 5, 1, 1000);
  const seed = integer('seed', values.seed, 1, 0, 2 ** 31 - 1 - repeats);

  let api: ApiOptions | null = null;
  if (values.api !== undefined) {
    if (values.jobs !== undefined) throw new UsageError('--jobs applies to in-process runs only, not with --api');
    const key = values['api-key'] || env[API_KEY_VARIABLE];
    if (!key) throw new UsageError(`--api needs an admin API key (it creates projects and ingests items): set ${API_KEY_VARIABLE}, or pass --api-key KEY`);
    const mode = values['api-initial'] ?? 'import';
    if (mode !== 'import' && mode !== 'annotate') throw new UsageError(`--api-initial must be "import" or "annotate", got "${mode}"`);
    const url = httpUrl('api', values.api);
    api = {
      url,
      ingestUrl: values['ingest-url'] === undefined ? url : httpUrl('ingest-url', values['ingest-url']),
      key,
      annotators: integer('annotators', values.annotators, 3, 1, 64),
      waitTimeoutMs: integer('wait-timeout', values['wait-timeout'], 600, 1, 86_400) * 1000,
      initial: mode,
    };
  } else {
    const given = API_ONLY.filter((name) => values[name] !== undefined);
    if (given.length) throw new UsageError(`${given.map((n) => `--${n}`).join(', ')} only appl${given.length > 1 ? 'y' : 'ies'} with --api URL`);
  }

  const runs = strategies.length * repeats;
  const jobs = integer('jobs', values.jobs, Math.max(1, Math.min(availableParallelism(), runs)), 1, 256);
  const out = resolve(values.out ?? `.sim/${basename(dirname(resolve(values.train))) || 'dataset'}`);
  return { train: values.train, test: values.test, strategies, initial, batch, budget, repeats, seed, out, jobs, api, notes };
}
