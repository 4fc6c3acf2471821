import { AlderApiError, AlderError } from '@alder/client';
import { CliUsageError, EXIT, type CliIo } from './cli-io';

const HINTS: Record<number, string> = {
  401: ' (check ALDER_API_KEY or --api-key)',
  403: " (the key's user may not do this)",
};

/**
 * Writes a remote command's failure as one line and returns its exit status: 2 for the command
 * line or input, 3 for Alder's answer or its absence. Anything else is a bug and is rethrown.
 */
export function reportFailure(command: string, error: unknown, io: CliIo): number {
  if (error instanceof CliUsageError) {
    io.stderr.write(`alder ${command}: ${error.message}\n(alder ${command} --help lists the options)\n`);
    return EXIT.usage;
  }
  if (error instanceof AlderError) {
    const hint = error instanceof AlderApiError ? (HINTS[error.status] ?? '') : '';
    io.stderr.write(`alder ${command}: ${error.message}${hint}\n`);
    return EXIT.server;
  }
  throw error;
}
