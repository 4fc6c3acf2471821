/** What a remote command writes to and reads from: the process in `alder`, buffers in a test. */
export interface CliIo {
  stdout: { isTTY?: boolean; write(chunk: string): unknown };
  stderr: { isTTY?: boolean; columns?: number; write(chunk: string): unknown };
}

/** The part of the environment the remote commands read (ALDER_URL, ALDER_API_KEY, ALDER_INGEST_URL). */
export type CliEnv = Readonly<Record<string, string | undefined>>;

/** Exit statuses of the remote commands (README, "The alder command"). */
export const EXIT = {
  ok: 0,
  /** Ingest: some lines were refused (the rest landed). */
  refused: 1,
  /** The command line or an input file is wrong; nothing was sent, or nothing landed. */
  usage: 2,
  /** Alder answered with an error, or did not answer. */
  server: 3,
  /** Interrupted (Ctrl-C): 128 + SIGINT, as shells report it. */
  interrupted: 130,
} as const;

/** A bad command line or input file: the message says what is wrong (exit 2). */
export class CliUsageError extends Error {
  override name = 'CliUsageError';
}
