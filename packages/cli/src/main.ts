import { loadConfig } from '@alder/config';
import { createLogger } from '@alder/logger';
import { startAllInOne } from './start.command';
import { runMigrations } from './migrate.command';
import { runSimulateCommand } from './simulate/simulate.command';

const usage = `usage: alder <command>

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
  // The simulator reads no environment (it takes everything as arguments).
  if (command === 'simulate') {
    process.exitCode = await runSimulateCommand(argv.slice(1));
    return;
  }
  const config = loadConfig();
  const log = createLogger({ level: config.LOG_LEVEL, name: 'alder' });
  if (command === 'start') return startAllInOne(config, log);
  if (command === 'migrate') return runMigrations(config, log);
  process.stderr.write(`unknown command: ${command}\n\n${usage}`);
  process.exitCode = 2;
}

main(process.argv.slice(2)).catch((error: unknown) => {
  process.stderr.write(`alder: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
