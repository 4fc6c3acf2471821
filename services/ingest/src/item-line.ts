import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import { loadSpec, mayHoldUnstorable, unstorableStrings } from '@alder/http';
import type { NewItem } from './items.repository';

/** What a refused line says: a JSON pointer into the line's object ('' for the line) and why. */
export interface LineProblem {
  pointer: string;
  reason: string;
}

const utf8 = new TextDecoder('utf-8', { fatal: true });
let validators: { exact: ValidateFunction; quick: ValidateFunction | null } | undefined;

/** The largest minLength anywhere in a schema. */
function largestMinLength(schema: unknown): number {
  if (Array.isArray(schema)) return Math.max(0, ...schema.map(largestMinLength));
  if (schema === null || typeof schema !== 'object') return 0;
  return Math.max(0, ...Object.entries(schema).map(([key, value]) => (key === 'minLength' && typeof value === 'number' ? value : largestMinLength(value))));
}

/**
 * The item schema of the JSON batch (`IngestItem` in openapi.yaml), compiled the way the HTTP
 * layer validates bodies (`exact`: every problem at once, no type coercion, unknown fields
 * refused, lengths in code points), and a `quick` check that goes first. Counting a string's
 * code points walks all of it, most of a line's check; the quick one counts UTF-16 units instead
 * and stops at the first problem. What it accepts the exact check accepts too (no string has
 * more code points than units, and "not empty" is the same either way, so it is used only while
 * no minLength is above 1); what it refuses, the exact check looks at again.
 */
function itemValidators(): { exact: ValidateFunction; quick: ValidateFunction | null } {
  if (!validators) {
    const schema = (loadSpec().components as { schemas: Record<string, object> }).schemas.IngestItem!;
    const options = { coerceTypes: false, removeAdditional: false, allowUnionTypes: true, strict: false } as const;
    validators = {
      exact: new Ajv({ ...options, allErrors: true }).compile(schema),
      // `unicode: false` is deprecated in Ajv 8 but kept; `logger: false` keeps its notice out of the service's log.
      quick: largestMinLength(schema) <= 1 ? new Ajv({ ...options, allErrors: false, unicode: false, logger: false } as ConstructorParameters<typeof Ajv>[0]).compile(schema) : null,
    };
  }
  return validators;
}

/** The schema's problems with a parsed line (none: []). */
function itemSchemaProblems(value: unknown): LineProblem[] {
  const { exact, quick } = itemValidators();
  if (quick?.(value) || exact(value)) return [];
  return schemaProblems(exact.errors ?? []);
}

function schemaProblems(errors: ErrorObject[]): LineProblem[] {
  return errors.map((e) => {
    const field = e.keyword === 'additionalProperties' ? `/${String((e.params as { additionalProperty: string }).additionalProperty)}` : '';
    const message = e.keyword === 'additionalProperties' ? 'is not a field of an item' : (e.message ?? 'is invalid');
    return { pointer: `${e.instancePath}${field}`, reason: message };
  });
}

/**
 * One NDJSON line as an item, or why it is refused: not UTF-8, not JSON, not an item object, a
 * string Postgres can not store (NUL, lone surrogate), a label the project does not have, a gold
 * item without its answer. Null for a blank line (skipped, not counted).
 */
export function readItemLine(bytes: Buffer, labels: ReadonlySet<string>): { item: NewItem } | { problems: LineProblem[] } | null {
  const parsed = parseItemLine(bytes);
  return parsed === null || 'problems' in parsed ? parsed : readItemValue(parsed.value, labels, { escaped: parsed.escaped });
}

/**
 * One NDJSON line as the JSON value it holds, or why it holds none (not UTF-8, not JSON); null for
 * a blank line. `escaped`: the line may hold what can not be stored (a \u escape, the only way a
 * NUL or a lone surrogate gets into a parsed JSON value; a number past a double; nesting past
 * MAX_JSON_DEPTH: `mayHoldUnstorable`); a line that can not is not walked again.
 */
export function parseItemLine(bytes: Buffer): { value: unknown; escaped: boolean } | { problems: LineProblem[] } | null {
  let text: string;
  try {
    text = utf8.decode(bytes);
  } catch {
    return { problems: [{ pointer: '', reason: 'is not valid UTF-8' }] };
  }
  if (!text.trim()) return null;
  try {
    return { value: JSON.parse(text), escaped: mayHoldUnstorable(text) };
  } catch (error) {
    return { problems: [{ pointer: '', reason: `is not valid JSON (${(error as Error).message})` }] };
  }
}

/**
 * A value already parsed (an NDJSON line's, a CSV row mapped to an object) as an item, checked
 * exactly as a line is: the item schema, storable strings (looked for unless `escaped` is false:
 * a JSON line without a \u escape has none), the project's labels, gold items.
 */
export function readItemValue(value: unknown, labels: ReadonlySet<string>, options: { escaped?: boolean } = {}): { item: NewItem } | { problems: LineProblem[] } {
  const invalid = itemSchemaProblems(value);
  if (invalid.length) return { problems: invalid };
  const unstorable = options.escaped === false ? [] : unstorableStrings(value, '');
  if (unstorable.length) return { problems: unstorable.map((u) => ({ pointer: u.path, reason: u.message })) };
  const item = value as { external_id: string; text: string; meta?: Record<string, unknown> | null; label?: string | null; split?: 'pool' | 'test'; gold?: boolean };
  const problems: LineProblem[] = [];
  if (item.label != null && !labels.has(item.label)) problems.push({ pointer: '/label', reason: `"${item.label}" is not one of the project's labels` });
  if (item.gold && (item.label == null || (item.split ?? 'pool') !== 'pool')) problems.push({ pointer: '/gold', reason: 'a gold item is a pool item with its known answer in label' });
  if (problems.length) return { problems };
  return {
    item: { external_id: item.external_id, text: item.text, meta: item.meta ?? {}, split: item.split ?? 'pool', label: item.label ?? null, gold: item.gold ?? false },
  };
}
