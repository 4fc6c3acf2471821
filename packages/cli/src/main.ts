import { CommanderError } from 'commander';
import { buildProgram, exitCodeOf } from './program';

const controller = new AbortController();
// Only while a remote command runs: `alder start` binds its own shutdown to these signals.
const stop = () => controller.abort();

async function main(argv: string[]): Promise<void> {
  const program = buildProgram({ env: process.env, signal: controller.signal, setExitCode: (code) => (process.exitCode = code) });
  if (argv.length === 0) {
    process.stdout.write(program.helpInformation());
    return;
  }
  const remote = ['ingest', 'export', 'projects', 'keys'].includes(argv[0]!);
  if (remote) {
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  }
  try {
    await program.parseAsync(argv, { from: 'user' });
  } catch (error) {
    if (error instanceof CommanderError) {
      process.exitCode = exitCodeOf(error);
      return;
    }
    throw error;
  } finally {
    if (remote) {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
    }
  }
}

main(process.argv.slice(2)).catch((error: unknown) => {
  process.stderr.write(`alder: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
