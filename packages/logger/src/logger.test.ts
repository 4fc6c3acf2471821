import { chooseLogFormat, createLogger, type LogDestination } from './index';

function sink(isTTY?: boolean): LogDestination & { lines: string[] } {
  const lines: string[] = [];
  return { lines, isTTY, write: (line: string) => lines.push(line) };
}

describe('chooseLogFormat', () => {
  it('is pretty on a terminal and JSON anywhere else, unless LOG_FORMAT says', () => {
    expect(chooseLogFormat(undefined, true)).toBe('pretty');
    expect(chooseLogFormat(undefined, false)).toBe('json');
    expect(chooseLogFormat(undefined, undefined)).toBe('json');
    expect(chooseLogFormat('json', true)).toBe('json');
    expect(chooseLogFormat('pretty', false)).toBe('pretty');
  });
});

describe('createLogger', () => {
  it('writes JSON lines to a destination that is not a terminal', () => {
    const out = sink();
    createLogger({ name: 'alder', destination: out }).child({ module: 'http' }).info({ n: 1 }, 'hello');
    expect(out.lines).toHaveLength(1);
    expect(JSON.parse(out.lines[0]!)).toMatchObject({ level: 30, service: 'alder', module: 'http', n: 1, msg: 'hello' });
  });

  it('writes readable lines on a terminal, synchronously, without colour codes elsewhere', () => {
    const tty = sink(true);
    createLogger({ name: 'alder', destination: tty }).child({ module: 'http' }).warn({ projectId: 'p1' }, 'not ready');
    // Written in the logging call: nothing waits for a later tick or a worker thread.
    expect(tty.lines).toHaveLength(1);
    const line = tty.lines[0]!.replace(/\x1b\[[0-9;]*m/g, '');
    expect(line).toMatch(/^\[\d\d:\d\d:\d\d\.\d{3}\] WARN: alder\/http not ready {"projectId":"p1"}\n$/);
    expect(tty.lines[0]).toContain('\x1b['); // coloured for the terminal

    const forced = sink(false);
    createLogger({ format: 'pretty', destination: forced }).info('plain');
    expect(forced.lines[0]).toMatch(/^\[\d\d:\d\d:\d\d\.\d{3}\] INFO: plain\n$/);
    expect(forced.lines[0]).not.toContain('\x1b[');
  });

  it('follows LOG_FORMAT=json on a terminal', () => {
    const tty = sink(true);
    createLogger({ format: 'json', destination: tty }).info('machine');
    expect(JSON.parse(tty.lines[0]!).msg).toBe('machine');
  });

  it('redacts keys and connection strings in both formats', () => {
    for (const format of ['json', 'pretty'] as const) {
      const out = sink();
      const log = createLogger({ format, destination: out });
      log.info({ apiKey: 'alder_secret_1', req: { headers: { authorization: 'Bearer alder_secret_2' } }, config: { DATABASE_URL: 'postgres://u:hunter2@db' } }, 'redacted');
      expect(out.lines.join('')).toContain('[redacted]');
      expect(out.lines.join('')).not.toMatch(/alder_secret|hunter2/);
    }
  });

  it('keeps to its level', () => {
    const out = sink();
    const log = createLogger({ level: 'info', destination: out });
    log.debug('hidden');
    log.info('shown');
    expect(out.lines.map((l) => JSON.parse(l).msg)).toEqual(['shown']);
  });
});
