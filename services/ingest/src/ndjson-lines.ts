/**
 * The lines of a byte stream, split on LF (a CR before it is dropped), as bytes: decoding is the
 * reader's, so a line of invalid UTF-8 is refused on its own instead of being read with U+FFFD in
 * it (a string decoder over the stream would do that silently). A line longer than `maxBytes` is
 * reported as too long (its bytes skipped, never held) and reading goes on with the next line.
 */
export type Line = { line: number; bytes: Buffer } | { line: number; tooLong: true };

export async function* splitLines(source: AsyncIterable<Buffer | string>, maxBytes: number): AsyncGenerator<Line> {
  let parts: Buffer[] = [];
  let size = 0;
  let overflow = false;
  let line = 0;
  const emit = (): Line | null => {
    line++;
    if (overflow) {
      overflow = false;
      parts = [];
      size = 0;
      return { line, tooLong: true };
    }
    let bytes = parts.length === 1 ? parts[0]! : Buffer.concat(parts, size);
    parts = [];
    size = 0;
    if (bytes.length && bytes[bytes.length - 1] === 0x0d) bytes = bytes.subarray(0, bytes.length - 1);
    return { line, bytes };
  };
  for await (const raw of source) {
    const chunk = typeof raw === 'string' ? Buffer.from(raw) : raw;
    let start = 0;
    for (let newline = chunk.indexOf(0x0a, start); newline !== -1; newline = chunk.indexOf(0x0a, start)) {
      if (!overflow) {
        if (size + (newline - start) > maxBytes) overflow = true;
        else if (newline > start) {
          parts.push(chunk.subarray(start, newline));
          size += newline - start;
        }
      }
      yield emit()!;
      start = newline + 1;
    }
    if (start < chunk.length && !overflow) {
      if (size + (chunk.length - start) > maxBytes) {
        overflow = true;
        parts = [];
        size = 0;
      } else {
        // A copy: the chunk's memory is the stream's to reuse.
        parts.push(Buffer.from(chunk.subarray(start)));
        size += chunk.length - start;
      }
    }
  }
  if (size > 0 || overflow) yield emit()!;
}
