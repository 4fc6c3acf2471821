import { loadConfig } from '@alder/config';
import { createLogger } from '@alder/logger';
import { startProcess } from '@alder/host';
import { startAllInOne } from './start.command';
import { runMigrations } from './migrate.command';
import { runSimulateCommand } from './simulate/simulate.command';
import { cliVersion } from './version';

const usage = `usage: alder <command>
       alder --version

commands:
  start      run ingest, labeling-api, trainer and sampling in one process (embedded
             Postgres/Redis under DATA_DIR when DATABASE_URL/REDIS_URL are not set)
  migrate    apply database migrations to DATABASE_URL and exit
  simulate   run the active-learning loop on a labeled dataset and compare strategies
             (alder simulate --help for its options)
`;

async function main(argv: string[]): Promise<void> {
  const [command] = argv;
  if (!command || command === 'help' || command === '--help' || command === '-h') {
    process.stdout.write(usage);
    return;
  }
  if (command === '--version' || command === '-v') {
    process.stdout.write(`${cliVersion()}\n`);
    return;
  }
  // The simulator is a client of Alder, not a service: it takes no service config, and of the
  // environment only ALDER_API_KEY (so the key need not appear on the command line).
  if (command === 'simulate') {
    process.exitCode = await runSimulateCommand(argv.slice(1), process, process.env);
    return;
  }
  // The all-in-one binds its shutdown to SIGINT/SIGTERM before it opens anything.
  if (command === 'start') return startAllInOne(startProcess('alder', { logAs: null }));
  const config = loadConfig();
  const log = createLogger({ level: config.LOG_LEVEL, format: config.LOG_FORMAT, name: 'alder' });
  if (command === 'migrate') return runMigrations(config, log);
  process.stderr.write(`unknown command: ${command}\n\n${usage}`);
  process.exitCode = 2;
}

main(process.argv.slice(2)).catch((error: unknown) => {
  process.stderr.write(`alder: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
