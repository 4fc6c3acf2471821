import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import { loadSpec, unstorableStrings } from '@alder/http';
import type { NewItem } from './items.repository';

/** What a refused line says: a JSON pointer into the line's object ('' for the line) and why. */
export interface LineProblem {
  pointer: string;
  reason: string;
}

const utf8 = new TextDecoder('utf-8', { fatal: true });
let validateItem: ValidateFunction | undefined;

/**
 * The item schema of the JSON batch (`IngestItem` in openapi.yaml), compiled the way the HTTP
 * layer validates bodies: every problem at once, no type coercion, unknown fields refused.
 */
function itemValidator(): ValidateFunction {
  if (!validateItem) {
    const schema = (loadSpec().components as { schemas: Record<string, object> }).schemas.IngestItem!;
    validateItem = new Ajv({ allErrors: true, coerceTypes: false, removeAdditional: false, allowUnionTypes: true, strict: false }).compile(schema);
  }
  return validateItem;
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
  return parsed === null || 'problems' in parsed ? parsed : readItemValue(parsed.value, labels);
}

/** One NDJSON line as the JSON value it holds, or why it holds none (not UTF-8, not JSON); null for a blank line. */
export function parseItemLine(bytes: Buffer): { value: unknown } | { problems: LineProblem[] } | null {
  let text: string;
  try {
    text = utf8.decode(bytes);
  } catch {
    return { problems: [{ pointer: '', reason: 'is not valid UTF-8' }] };
  }
  if (!text.trim()) return null;
  try {
    return { value: JSON.parse(text) };
  } catch (error) {
    return { problems: [{ pointer: '', reason: `is not valid JSON (${(error as Error).message})` }] };
  }
}

/**
 * A value already parsed (an NDJSON line's, a CSV row mapped to an object) as an item, checked
 * exactly as a line is: the item schema, storable strings, the project's labels, gold items.
 */
export function readItemValue(value: unknown, labels: ReadonlySet<string>): { item: NewItem } | { problems: LineProblem[] } {
  const validate = itemValidator();
  if (!validate(value)) return { problems: schemaProblems(validate.errors ?? []) };
  const unstorable = unstorableStrings(value, '');
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
