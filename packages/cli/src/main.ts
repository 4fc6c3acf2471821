import { cliVersion } from './version';

// Each command loads only its own code: `alder --version` and `alder migrate` (the compose
// migrate step) must not load every service and TensorFlow.js first.

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
    const { runSimulateCommand } = await import('./simulate/simulate.command');
    process.exitCode = await runSimulateCommand(argv.slice(1), process, process.env);
    return;
  }
  // The all-in-one binds its shutdown to SIGINT/SIGTERM before it opens anything.
  if (command === 'start') {
    const [{ startProcess }, { startAllInOne }] = await Promise.all([import('@alder/host'), import('./start.command')]);
    return startAllInOne(startProcess('alder', { logAs: null }));
  }
  if (command === 'migrate') {
    const [{ loadConfig }, { createLogger }, { runMigrations }] = await Promise.all([import('@alder/config'), import('@alder/logger'), import('./migrate.command')]);
    const config = loadConfig();
    return runMigrations(config, createLogger({ level: config.LOG_LEVEL, format: config.LOG_FORMAT, name: 'alder' }));
  }
  process.stderr.write(`unknown command: ${command}\n\n${usage}`);
  process.exitCode = 2;
}

main(process.argv.slice(2)).catch((error: unknown) => {
  process.stderr.write(`alder: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
