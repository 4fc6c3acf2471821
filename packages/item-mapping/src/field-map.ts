/** The item fields a column (CSV) or key (JSONL) fills one for one. */
export const ITEM_FIELDS = ['external_id', 'text', 'label', 'split'] as const;
export type ItemField = (typeof ITEM_FIELDS)[number];

/** Every field a mapping may name: the item fields, and meta. */
export const MAPPED_FIELDS = [...ITEM_FIELDS, 'meta'] as const;
export type MappedField = (typeof MAPPED_FIELDS)[number];

/** Instead of a column: the item's number in the file (CSV: its row, 1 for the first after the header; JSONL: its line), as its external id. */
export const LINE_NUMBER = '@line';

/**
 * Where meta comes from: one column whose cells hold a JSON object (JSONL: one key, its value as
 * it is), or several columns (keys) gathered into an object under their own names.
 */
export type MetaSource = string | readonly string[];

/** Where each item field comes from: a column or key name, or LINE_NUMBER for external_id. */
export type FieldMap = Partial<Record<ItemField, string>> & { meta?: MetaSource };

/** A mapping that can not be used; `field` names the field it is about, when it is about one. */
export class FieldMapError extends Error {
  override name = 'FieldMapError';
  constructor(
    message: string,
    readonly field?: string,
  ) {
    super(message);
  }
}

/**
 * How the caller's own syntax says "this field from that source", for the hints in messages:
 * `--csv-map text=COLUMN` on the command line, `"mapping": {"text": "COLUMN"}` in a form.
 */
export type MappingSyntax = (field: string, source: string) => string;

const fieldList = MAPPED_FIELDS.join(', ');

/** Checks one field's source; `where` prefixes the messages (`--map`, `mapping`). */
function checkSource(map: FieldMap, field: string, source: unknown, where: string): void {
  if (!(MAPPED_FIELDS as readonly string[]).includes(field)) throw new FieldMapError(`${where}: unknown field "${field}" (the fields are ${fieldList})`, field);
  if (Object.hasOwn(map, field)) throw new FieldMapError(`${where}: "${field}" is mapped twice`, field);
  const names = field === 'meta' && Array.isArray(source) ? source : [source];
  if (!names.length) throw new FieldMapError(`${where}: meta names no column`, field);
  for (const name of names) {
    if (typeof name !== 'string' || !name) {
      const shape = field === 'meta' ? 'a column name or a list of column names' : 'a column name';
      throw new FieldMapError(`${where}: ${field} must be ${shape}, not ${JSON.stringify(name)}`, field);
    }
    if (name === LINE_NUMBER && field !== 'external_id') throw new FieldMapError(`${where}: ${LINE_NUMBER} can only be the external_id`, field);
  }
  if (new Set(names).size !== names.length) throw new FieldMapError(`${where}: meta names a column twice`, field);
}

/** Parses `text=body,external_id=id,label=category` (whitespace around names ignored); meta takes one column here. */
export function parseFieldMap(spec: string, flag: string): FieldMap {
  const map: FieldMap = {};
  for (const pair of spec.split(',').filter((p) => p.trim())) {
    const eq = pair.indexOf('=');
    const field = pair.slice(0, eq).trim();
    const source = pair.slice(eq + 1).trim();
    if (eq < 0 || !source) throw new FieldMapError(`${flag}: "${pair.trim()}" is not FIELD=COLUMN (e.g. ${flag} text=body,external_id=id)`);
    checkSource(map, field, source, flag);
    (map as Record<string, string>)[field] = source;
  }
  if (!Object.keys(map).length) throw new FieldMapError(`${flag} is empty (e.g. ${flag} text=body,external_id=id)`);
  return map;
}

/** A mapping sent as JSON, `{"external_id": "id", "text": "body", "meta": ["source", "date"]}`; `{}` maps nothing. */
export function fieldMapFromJson(value: unknown, where: string): FieldMap {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new FieldMapError(`${where} must be a JSON object of field: column, e.g. {"external_id": "id", "text": "body"}`);
  }
  const map: FieldMap = {};
  for (const [field, source] of Object.entries(value)) {
    checkSource(map, field, source, where);
    (map as Record<string, unknown>)[field] = Array.isArray(source) ? [...(source as string[])] : source;
  }
  return map;
}

/** The column names a resolved map reads (LINE_NUMBER is none). */
export function columnsRead(columns: FieldMap): string[] {
  const names = new Set<string>();
  for (const field of ITEM_FIELDS) if (columns[field] !== undefined && columns[field] !== LINE_NUMBER) names.add(columns[field]!);
  for (const name of metaColumns(columns)) names.add(name);
  return [...names];
}

/** The columns (keys) meta comes from. */
export function metaColumns(map: FieldMap): readonly string[] {
  return map.meta === undefined ? [] : typeof map.meta === 'string' ? [map.meta] : map.meta;
}

/** A header as messages show it: a wide one is cut short. */
function shown(header: readonly string[]): string {
  return header.length > 30 ? `${header.slice(0, 30).join(', ')} and ${header.length - 30} more` : header.join(', ');
}

/**
 * The CSV columns each field comes from, checked against the header: the map's, else the column
 * named like the field; text and external_id are required, label, split and meta optional. A
 * column read twice in the header is refused: which of the two would be meant?
 */
export function resolveCsvColumns(header: readonly string[], map: FieldMap | null, syntax: MappingSyntax): FieldMap {
  const columns: FieldMap = {};
  const present = new Set(header);
  const missing = (name: string, field: string) => new FieldMapError(`column "${name}" (for ${field}) is not in the CSV header: ${shown(header)}`, field);
  for (const field of ITEM_FIELDS) {
    const mapped = map?.[field];
    if (mapped === LINE_NUMBER) columns[field] = mapped;
    else if (mapped !== undefined) {
      if (!present.has(mapped)) throw missing(mapped, field);
      columns[field] = mapped;
    } else if (present.has(field)) columns[field] = field;
    else if (field === 'text' || field === 'external_id') {
      const hint = field === 'external_id' ? ` or ${syntax('external_id', LINE_NUMBER)} to number the rows` : '';
      throw new FieldMapError(`the CSV header has no "${field}" column (${shown(header)}): name one with ${syntax(field, 'COLUMN')}${hint}`, field);
    }
  }
  if (map?.meta !== undefined) {
    for (const name of metaColumns(map)) if (!present.has(name)) throw missing(name, 'meta');
    columns.meta = map.meta;
  } else if (present.has('meta')) columns.meta = 'meta';
  for (const name of columnsRead(columns)) {
    if (header.indexOf(name) !== header.lastIndexOf(name)) throw new FieldMapError(`column "${name}" appears more than once in the CSV header: rename one of them`);
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

/** What a row's cells could not give its item: a JSON pointer into the item and why, naming the column. */
export interface CellProblem {
  pointer: string;
  reason: string;
}

/**
 * A CSV row (cells by column name) as an item. Meta from one column is that cell parsed as a
 * JSON object (an empty cell: no meta); from several, their non-empty cells as strings under the
 * columns' names. A meta cell that is not a JSON object is a problem, and stays in the item as
 * the text it is (so a caller that sends the item on is refused at /meta too).
 */
export function mapCsvRow(cells: Record<string, string | undefined>, columns: FieldMap, n: number): { item: Record<string, unknown>; problems: CellProblem[] } {
  const item = mapItem(cells, columns, n);
  const problems: CellProblem[] = [];
  if (typeof columns.meta === 'string') {
    const cell = cells[columns.meta];
    if (cell !== undefined && cell !== '') {
      let parsed: unknown;
      try {
        parsed = JSON.parse(cell);
      } catch (error) {
        problems.push({ pointer: '/meta', reason: `is not JSON (column "${columns.meta}": ${(error as Error).message})` });
      }
      if (parsed !== undefined && (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed))) {
        problems.push({ pointer: '/meta', reason: `is not a JSON object (column "${columns.meta}")` });
      }
      item.meta = problems.length ? cell : parsed;
    }
  } else if (columns.meta) {
    const meta: Record<string, string> = {};
    for (const name of columns.meta) if (cells[name]) meta[name] = cells[name]!;
    if (Object.keys(meta).length) item.meta = meta;
  }
  return { item, problems };
}

/**
 * A JSONL object mapped: the fields the map leaves out keep their own keys; meta is the mapped
 * key's value (or the mapped keys gathered), else the object's own `meta`; `gold` goes as it is.
 * Other keys are not read.
 */
export function mapJsonlObject(object: Record<string, unknown>, map: FieldMap, n: number): Record<string, unknown> {
  const full: FieldMap = { ...Object.fromEntries(ITEM_FIELDS.map((f) => [f, f])), ...map };
  const item = mapItem(object, full, n);
  let meta: unknown;
  if (typeof map.meta === 'string') meta = object[map.meta];
  else if (map.meta) {
    const gathered = Object.fromEntries(map.meta.filter((key) => object[key] !== undefined).map((key) => [key, object[key]]));
    if (Object.keys(gathered).length) meta = gathered;
  } else meta = object.meta;
  if (meta !== undefined) item.meta = meta;
  if (object.gold !== undefined) item.gold = object.gold;
  return item;
}
