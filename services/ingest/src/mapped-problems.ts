import { LINE_NUMBER, metaColumns, type FieldMap } from '@alder/item-mapping';
import type { LineProblem } from './item-line';

const MISSING = /^must have required property '([^']+)'$/;

/** The columns (keys) a field of the item came from, as a reason's suffix names them; '' for none. */
function sources(field: string, map: FieldMap, noun: string): string {
  if (field === 'meta') {
    const names = metaColumns(map);
    if (!names.length) return '';
    return names.length === 1 ? `${noun} "${names[0]}"` : `${noun}s ${names.map((n) => `"${n}"`).join(', ')}`;
  }
  const source = (map as Record<string, unknown>)[field];
  if (source === LINE_NUMBER) return 'the row number';
  return typeof source === 'string' ? `${noun} "${source}"` : '';
}

/**
 * A mapped row's problems as the file's author reads them: the pointer stays the item field's
 * (`/text`), the reason names the column (key) it came from, and a required field left out
 * because its cell was empty says so instead of "must have required property".
 */
export function nameSources(problems: readonly LineProblem[], map: FieldMap, noun: 'column' | 'key'): LineProblem[] {
  return problems.map(({ pointer, reason }) => {
    const missing = pointer === '' ? MISSING.exec(reason) : null;
    if (missing) {
      const from = sources(missing[1]!, map, noun);
      return { pointer: `/${missing[1]}`, reason: from ? `is missing: ${from} is ${noun === 'column' ? 'empty' : 'absent or empty'}` : 'is missing' };
    }
    const field = /^\/([^/]+)/.exec(pointer)?.[1];
    const from = field ? sources(field, map, noun) : '';
    return { pointer, reason: from ? `${reason} (${from})` : reason };
  });
}
