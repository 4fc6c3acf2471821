/**
 * Which file line each item came from, for messages: the server numbers the items it refused
 * (the NDJSON lines sent), a CSV file its lines (a header, and quoted fields spanning lines).
 * Only where the offset between them changes is kept, so a million-row CSV costs nothing.
 */
export class LineMap {
  private readonly items: number[] = [];
  private readonly offsets: number[] = [];

  /** Item `item` (from 1) ends on file line `line`; call in item order. */
  record(item: number, line: number): void {
    const offset = line - item;
    if (this.offsets.at(-1) !== offset) {
      this.items.push(item);
      this.offsets.push(offset);
    }
  }

  /** The file line of item `item`, or the item number itself when nothing was recorded. */
  lineOf(item: number): number {
    let lo = 0;
    let hi = this.items.length - 1;
    let found = -1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      if (this.items[mid]! <= item) {
        found = mid;
        lo = mid + 1;
      } else hi = mid - 1;
    }
    return item + (found < 0 ? 0 : this.offsets[found]!);
  }
}
