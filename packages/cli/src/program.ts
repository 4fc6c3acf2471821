import { Command, CommanderError, Option } from 'commander';
import { cliVersion } from './version';

// Each command's action imports its own code: `alder --version` and `alder migrate` (the compose
// migrate step) must not load every service and TensorFlow.js first, and the remote commands
// need only the client.

/** What the actions read of the process (the entry point passes the real one). */
export interface ProgramContext {
  env: Readonly<Record<string, string | undefined>>;
  /** Aborted on Ctrl-C / SIGTERM: an ingest stops its upload and says how to resume. */
  signal: AbortSignal;
  setExitCode(code: number): void;
}

const io = () => ({ stdout: process.stdout, stderr: process.stderr });

function connectionOptions(command: Command): Command {
  return command
    .option('--url <url>', "Alder's base URL (default: $ALDER_URL, else http://127.0.0.1:8080)")
    .option('--ingest-url <url>', 'the ingest service when it runs apart (default: $ALDER_INGEST_URL, else --url)')
    .addOption(new Option('--api-key <key>', 'API key (default: $ALDER_API_KEY, which stays out of ps and the shell history)'));
}

/** The `alder` command line (commander), its actions loading their modules on demand. */
export function buildProgram(ctx: ProgramContext): Command {
  const done = (code: number) => ctx.setExitCode(code);
  const program = new Command('alder')
    .usage('<command> [options]')
    .description('Alder, the active-learning labeling backend: run it, and talk to a running one.')
    .version(cliVersion(), '-v, --version', 'print the version')
    .helpOption('-h, --help', 'show this help')
    .helpCommand('help [command]', 'show the help of a command')
    .enablePositionalOptions()
    .showSuggestionAfterError()
    .configureHelp({ styleTitle: (title) => title.toLowerCase(), sortSubcommands: false })
    .configureOutput({ outputError: (text, write) => write(`alder: ${text.replace(/^error: /, '')}`) })
    .exitOverride();

  program
    .command('start')
    .description('run ingest, labeling-api, trainer and sampling in one process (embedded Postgres/Redis under DATA_DIR when DATABASE_URL/REDIS_URL are not set)')
    .action(async () => {
      // The all-in-one binds its shutdown to SIGINT/SIGTERM before it opens anything.
      const [{ startProcess }, { startAllInOne }] = await Promise.all([import('@alder/host'), import('./start.command')]);
      await startAllInOne(startProcess('alder', { logAs: null }));
    });

  program
    .command('migrate')
    .description('apply database migrations to DATABASE_URL and exit')
    .action(async () => {
      const [{ loadConfig }, { createLogger }, { runMigrations }] = await Promise.all([import('@alder/config'), import('@alder/logger'), import('./migrate.command')]);
      const config = loadConfig();
      await runMigrations(config, createLogger({ level: config.LOG_LEVEL, format: config.LOG_FORMAT, name: 'alder' }));
    });

  // The simulator parses its own options (alder simulate --help), so they pass through as they are.
  program
    .command('simulate')
    .description('run the active-learning loop on a labeled dataset and compare strategies (alder simulate --help)')
    .helpOption(false)
    .allowUnknownOption()
    .allowExcessArguments()
    .passThroughOptions()
    .argument('[args...]', 'its options')
    .action(async (args: string[]) => {
      // The simulator is a client of Alder, not a service: it takes no service config, and of the
      // environment only ALDER_API_KEY (so the key need not appear on the command line).
      const { runSimulateCommand } = await import('./simulate/simulate.command');
      done(await runSimulateCommand(args, process, ctx.env));
    });

  connectionOptions(
    program
      .command('ingest')
      .description('stream a JSONL or CSV file into a project (gzip-compressed, resumable by running it again)')
      .argument('<file>', "the file ('-' for standard input)")
      .requiredOption('-p, --project <id>', 'the project')
      .option('--format <format>', 'jsonl or csv (default: from the file name)')
      .option('--map <pairs>', 'where the fields come from: text=COL,external_id=COL,label=COL,split=COL,meta=COL (a column of JSON objects); external_id=@line numbers the items')
      .addOption(new Option('--csv-map <pairs>', 'the same as --map').hideHelp())
      .option('--json', 'print the batch result as JSON'),
  ).action(async (file: string, flags) => {
    const { runIngest } = await import('./remote/ingest.command');
    done(await runIngest(file, flags, { env: ctx.env, io: io(), stdin: process.stdin, signal: ctx.signal }));
  });

  connectionOptions(
    program
      .command('export')
      .description("a project's labels with their provenance, streamed")
      .requiredOption('-p, --project <id>', 'the project')
      .option('--format <format>', 'jsonl (default) or csv')
      .option('--status <status>', 'resolved (default): resolved items; all: every pool item')
      .option('-o, --out <file>', 'write here (default: standard output)'),
  ).action(async (flags) => {
    const { runExport } = await import('./remote/export.command');
    done(await runExport(flags, ctx.env, { ...io(), stdoutStream: process.stdout }));
  });

  connectionOptions(
    program
      .command('batches')
      .description("a project's ingest batches, newest first; with a batch id, that batch and the rows it refused")
      .argument('[batch]', 'a batch id (from alder ingest or the list)')
      .requiredOption('-p, --project <id>', 'the project')
      .option('--limit <n>', `the newest this many (default 50)`)
      .option('--json', 'JSON: one batch a line, or the one batch'),
  ).action(async (batch: string | undefined, flags) => {
    const { runBatches } = await import('./remote/batches.command');
    done(await runBatches(batch, flags, ctx.env, io()));
  });

  const projects = program.command('projects').description('list or create projects');
  connectionOptions(projects.command('list', { isDefault: true }).description('the projects you may see').option('--json', 'one JSON object a line')).action(
    async (flags) => {
      const { runProjectsList } = await import('./remote/projects.command');
      done(await runProjectsList(flags, ctx.env, io()));
    },
  );
  connectionOptions(
    projects
      .command('create')
      .description('create a project (admins); prints its id')
      .requiredOption('--name <name>', 'its name')
      .requiredOption('--labels <labels>', 'its labels, comma-separated (two or more)')
      .option('--strategy <strategy>', 'how the pool is ranked (default auto)')
      .option('--retrain-every <n>', 'a new model every this many labels (default 20)')
      .option('--json', 'print the project as JSON'),
  ).action(async (flags) => {
    const { runProjectsCreate } = await import('./remote/projects.command');
    done(await runProjectsCreate(flags, ctx.env, io()));
  });

  const keys = program.command('keys').description('list, create or revoke API keys');
  connectionOptions(keys.command('list', { isDefault: true }).description('the keys you may see (never the keys themselves)').option('--json', 'one JSON object a line')).action(
    async (flags) => {
      const { runKeysList } = await import('./remote/keys.command');
      done(await runKeysList(flags, ctx.env, io()));
    },
  );
  connectionOptions(
    keys
      .command('create')
      .description('create a key; prints it (shown this once)')
      .requiredOption('--name <name>', 'its name')
      .option('--user <id>', "whose key (admins; default: yours)")
      .option('--expires <time>', 'when it stops working (ISO 8601)')
      .option('--json', 'print the key and its record as JSON'),
  ).action(async (flags) => {
    const { runKeysCreate } = await import('./remote/keys.command');
    done(await runKeysCreate(flags, ctx.env, io()));
  });
  connectionOptions(keys.command('revoke').description('revoke a key at once').argument('<id>', 'the key id')).action(async (id: string, flags) => {
    const { runKeysRevoke } = await import('./remote/keys.command');
    done(await runKeysRevoke(id, flags, ctx.env, io()));
  });

  return program;
}

/** A commander exit (help, version, a usage error) as an exit status: usage errors are 2, not 1. */
export function exitCodeOf(error: CommanderError): number {
  return error.exitCode === 0 ? 0 : 2;
}
