import { pino, type DestinationStream, type Logger, type LoggerOptions } from 'pino';
import { prettyFactory } from 'pino-pretty';

export type { Logger } from 'pino';

/** Paths whose values never reach the logs: API keys, tokens, passwords, connection strings. */
export const redactedPaths = [
  'req.headers.authorization',
  'req.headers["x-api-key"]',
  'headers.authorization',
  'apiKey',
  'key',
  'token',
  'password',
  'secret',
  '*.apiKey',
  '*.token',
  '*.password',
  'config.DATABASE_URL',
  'config.REDIS_URL',
  'config.ALDER_ADMIN_KEY',
];

/** `pretty`: readable lines for a person at a terminal; `json`: one JSON object a line, for machines. */
export type LogFormat = 'pretty' | 'json';

/** Where log lines go: stdout by default; tests pass a sink of their own. */
export interface LogDestination {
  write(line: string): unknown;
  isTTY?: boolean;
}

/** The format asked for (`LOG_FORMAT`), else pretty on a terminal and JSON anywhere else. */
export function chooseLogFormat(asked: LogFormat | undefined, isTTY: boolean | undefined): LogFormat {
  return asked ?? (isTTY ? 'pretty' : 'json');
}

/**
 * pino-pretty as a plain synchronous stream: each line is formatted and written in the logging
 * call, on this thread. Not pino's `transport` (a worker thread whose buffered lines are lost
 * when the process exits at once) and not pino-pretty's own stream (a pipeline that writes on
 * a later tick).
 */
function prettyStream(destination: LogDestination): DestinationStream {
  const format = prettyFactory({
    colorize: destination.isTTY === true,
    translateTime: 'SYS:HH:MM:ss.l',
    ignore: 'pid,hostname,service,module',
    // `alder/http request completed`: who speaks, then what it says; other fields follow on the line.
    messageFormat: (log, messageKey) => {
      const source = [log.service, log.module].filter((part) => typeof part === 'string').join('/');
      return source ? `${source} ${String(log[messageKey] ?? '')}` : String(log[messageKey] ?? '');
    },
    singleLine: true,
  });
  return { write: (line: string) => destination.write(format(line)) };
}

/**
 * The root logger: pino with redaction, pretty or JSON (`chooseLogFormat`); modules and jobs
 * take child loggers from it.
 */
export function createLogger(options: { level?: string; name?: string; format?: LogFormat; destination?: LogDestination } = {}): Logger {
  const pinoOptions: LoggerOptions = {
    level: options.level ?? 'info',
    redact: { paths: redactedPaths, censor: '[redacted]' },
    base: options.name ? { service: options.name } : undefined,
  };
  const destination = options.destination ?? process.stdout;
  if (chooseLogFormat(options.format, destination.isTTY) === 'pretty') return pino(pinoOptions, prettyStream(destination));
  // JSON to stdout stays pino's own destination (sonic-boom on fd 1), as it always was.
  return options.destination ? pino(pinoOptions, options.destination as DestinationStream) : pino(pinoOptions);
}
