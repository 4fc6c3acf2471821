/**
 * A token written into JSON text as it is: what JSON.stringify can not write, such as a number
 * past what a double holds (`1e400`), more digits than a double keeps, or `-0`.
 */
export class RawJson {
  constructor(readonly text: string) {}
  toJSON(): string {
    return `<raw ${this.text}>`;
  }
}

/**
 * JSON text for a generated value: as JSON.stringify writes it (which escapes a lone surrogate
 * as `\ud800`, the way a client's JSON library sends one), with RawJson tokens written verbatim
 * and undefined members left out.
 */
export function jsonText(value: unknown): string {
  if (value instanceof RawJson) return value.text;
  if (Array.isArray(value)) return `[${value.map((item) => (item === undefined ? 'null' : jsonText(item))).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const members = Object.entries(value).filter(([, item]) => item !== undefined);
    return `{${members.map(([key, item]) => `${JSON.stringify(key)}:${jsonText(item)}`).join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}
