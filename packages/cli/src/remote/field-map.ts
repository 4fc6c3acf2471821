import { CliUsageError } from './cli-io';

/** The item fields a column (CSV) or key (JSONL) can fill. */
export const ITEM_FIELDS = ['external_id', 'text', 'label', 'split'] as const;
export type ItemField = (typeof ITEM_FIELDS)[number];

/** Instead of a column: the row's number in the file (1 for the first item), as its external id. */
export const LINE_NUMBER = '@line';

/** Where each item field comes from: a column or key name, or LINE_NUMBER for external_id. */
export type FieldMap = Partial<Record<ItemField, string>>;

/** Parses `text=body,external_id=id,label=category` (whitespace around names ignored). */
export function parseFieldMap(spec: string, flag: string): FieldMap {
  const map: FieldMap = {};
  for (const pair of spec.split(',').filter((p) => p.trim())) {
    const eq = pair.indexOf('=');
    const field = pair.slice(0, eq).trim();
    const source = pair.slice(eq + 1).trim();
    if (eq < 0 || !source) throw new CliUsageError(`${flag}: "${pair.trim()}" is not FIELD=COLUMN (e.g. ${flag} text=body,external_id=id)`);
    if (!(ITEM_FIELDS as readonly string[]).includes(field)) throw new CliUsageError(`${flag}: unknown field "${field}" (the fields are ${ITEM_FIELDS.join(', ')})`);
    if (source === LINE_NUMBER && field !== 'external_id') throw new CliUsageError(`${flag}: ${LINE_NUMBER} can only be the external_id`);
    if (map[field as ItemField] !== undefined) throw new CliUsageError(`${flag}: "${field}" is mapped twice`);
    map[field as ItemField] = source;
  }
  if (!Object.keys(map).length) throw new CliUsageError(`${flag} is empty (e.g. ${flag} text=body,external_id=id)`);
  return map;
}

/**
 * The CSV columns each field comes from, checked against the header: the map's, else the
 * column named like the field; text and external_id are required, label and split optional.
 */
export function resolveCsvColumns(header: readonly string[], map: FieldMap | null): FieldMap {
  const columns: FieldMap = {};
  const present = new Set(header);
  for (const field of ITEM_FIELDS) {
    const mapped = map?.[field];
    if (mapped === LINE_NUMBER) columns[field] = mapped;
    else if (mapped !== undefined) {
      if (!present.has(mapped)) throw new CliUsageError(`column "${mapped}" (for ${field}) is not in the CSV header: ${header.join(', ')}`);
      columns[field] = mapped;
    } else if (present.has(field)) columns[field] = field;
    else if (field === 'text' || field === 'external_id') {
      const hint = field === 'external_id' ? ` or --csv-map external_id=${LINE_NUMBER} to number the rows` : '';
      throw new CliUsageError(`the CSV header has no "${field}" column (${header.join(', ')}): name one with --csv-map ${field}=COLUMN${hint}`);
    }
  }
  return columns;
}

/** An item from a row or object: mapped fields only, empty cells left out (the server names what is missing). */
export function mapItem(fields: Record<string, unknown>, map: FieldMap, n: number): Record<string, unknown> {
  const item: Record<string, unknown> = {};
  for (const field of ITEM_FIELDS) {
    const source = map[field];
    if (source === undefined) continue;
    const value = source === LINE_NUMBER ? String(n) : fields[source];
    if (value === undefined || value === null || value === '') continue;
    item[field] = value;
  }
  return item;
}
