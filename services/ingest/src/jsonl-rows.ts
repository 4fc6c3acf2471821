import { mapJsonlObject, type FieldMap } from '@alder/item-mapping';
import { parseItemLine, readItemValue } from './item-line';
import { nameSources } from './mapped-problems';
import { MAX_LINE_BYTES, type ParsedRow } from './ndjson-ingest';
import { splitLines } from './ndjson-lines';

/**
 * A JSONL file under a mapping: each line split, decoded and parsed as a stream's is, its object
 * mapped (the keys the mapping names, the others named like the fields), then checked as an item;
 * a refusal names the key a field came from. A line that holds no object goes as it is, to be
 * refused as in a stream. Blank lines are skipped, not counted.
 */
export async function* mappedJsonlRows(bytes: AsyncIterable<Buffer | string>, map: FieldMap, labels: ReadonlySet<string>): AsyncGenerator<ParsedRow> {
  for await (const read of splitLines(bytes, MAX_LINE_BYTES)) {
    if ('tooLong' in read) {
      yield { line: read.line, problems: [{ pointer: '', reason: `is longer than ${MAX_LINE_BYTES} bytes` }] };
      continue;
    }
    const parsed = parseItemLine(read.bytes);
    if (parsed === null) continue;
    if ('problems' in parsed) {
      yield { line: read.line, problems: parsed.problems };
      continue;
    }
    const { value } = parsed;
    const isObject = value !== null && typeof value === 'object' && !Array.isArray(value);
    const checked = readItemValue(isObject ? mapJsonlObject(value as Record<string, unknown>, map, read.line) : value, labels);
    yield 'item' in checked ? { line: read.line, item: checked.item } : { line: read.line, problems: nameSources(checked.problems, map, 'key') };
  }
}
