/** Where a simulation stands, for people watching it. */
export interface Progress {
  /** `units` more of the total are done; `detail` says what just happened. */
  advance(units: number, detail: string): void;
  /** A line of its own (not overwritten by the bar). */
  log(line: string): void;
  done(): void;
}

interface Stream {
  isTTY?: boolean;
  columns?: number;
  write(chunk: string): unknown;
}

const duration = (ms: number) => {
  const s = Math.round(ms / 1000);
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  return m < 60 ? `${m}m${String(s % 60).padStart(2, '0')}s` : `${Math.floor(m / 60)}h${String(m % 60).padStart(2, '0')}m`;
};

/**
 * A progress bar redrawn in place when `stream` is a terminal; otherwise a plain line at most
 * every `everyMs` (logs and CI output should not fill with carriage returns).
 */
export function createProgress(total: number, stream: Stream = process.stderr, everyMs = 10_000, now: () => number = Date.now): Progress {
  const started = now();
  let doneUnits = 0;
  let lastDraw = 0;
  let lastDetail = '';
  let drawn = false;
  const tty = Boolean(stream.isTTY);

  const status = () => {
    const elapsed = now() - started;
    const fraction = total > 0 ? Math.min(1, doneUnits / total) : 1;
    const eta = fraction > 0 && fraction < 1 ? ` eta ${duration((elapsed / fraction) * (1 - fraction))}` : '';
    return { fraction, text: `${Math.floor(fraction * 100)}% ${doneUnits}/${total} ${duration(elapsed)}${eta}` };
  };

  const draw = (force: boolean) => {
    const t = now();
    if (tty) {
      if (!force && t - lastDraw < 100) return;
      const { fraction, text } = status();
      const width = 24;
      const filled = Math.round(fraction * width);
      const line = `[${'#'.repeat(filled)}${'-'.repeat(width - filled)}] ${text} ${lastDetail}`;
      stream.write(`\r\x1b[2K${line.slice(0, (stream.columns ?? 120) - 1)}`);
      drawn = true;
    } else {
      if (!force && t - lastDraw < everyMs) return;
      stream.write(`simulate: ${status().text} ${lastDetail}\n`);
    }
    lastDraw = t;
  };

  return {
    advance(units, detail) {
      doneUnits += units;
      lastDetail = detail;
      draw(false);
    },
    log(line) {
      if (tty && drawn) stream.write('\r\x1b[2K');
      stream.write(`${line}\n`);
      if (tty && drawn) draw(true);
    },
    done() {
      draw(true);
      if (tty) stream.write('\n');
    },
  };
}
