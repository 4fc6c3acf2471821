import fc from 'fast-check';
import { anyValue, hostileNumber, hostileString } from './hostile-values';
import type { Schema } from './operations';

/** How values are made from schemas. */
export interface ValueOptions {
  /** The spec's `components.schemas`, for $refs. */
  schemas: Record<string, Schema>;
  /**
   * Strings the running app knows (labels, external ids...): offered for plain string fields
   * besides generated ones, so that requests get past "unknown label" to what lies behind it.
   */
  words: readonly string[];
  /** At each value, the weight of a hostile one against 10 for one the schema allows (0: none). */
  hostility: number;
}

const MAX_DEPTH = 6;
/** Short strings and lists: what a handler does with a value rarely depends on its length past this. */
const LONGEST_STRING = 40;
const LONGEST_LIST = 4;

const typesOf = (schema: Schema): unknown[] => (Array.isArray(schema.type) ? schema.type : schema.type === undefined ? [] : [schema.type]);
const num = (value: unknown): number | undefined => (typeof value === 'number' ? value : undefined);

function stringValue(schema: Schema, options: ValueOptions): fc.Arbitrary<string> {
  const minLength = num(schema.minLength) ?? 0;
  const maxLength = Math.max(minLength, Math.min(num(schema.maxLength) ?? LONGEST_STRING, LONGEST_STRING));
  const fits = (text: string) => [...text].length >= minLength && [...text].length <= (num(schema.maxLength) ?? Infinity);
  switch (schema.format) {
    case 'uuid':
      return fc.uuid();
    case 'date-time':
      return fc.oneof(
        fc.date({ min: new Date('1900-01-01T00:00:00Z'), max: new Date('2200-01-01T00:00:00Z'), noInvalidDate: true }).map((d) => d.toISOString()),
        // RFC 3339 allows all of these; a column or Date may not.
        fc.constantFrom('0000-01-01T00:00:00Z', '0001-01-01T00:00:00+01:00', '9999-12-31T23:59:59Z', '9999-12-31T23:59:59-05:00', '2024-12-31T23:59:60Z', '2024-01-01T00:00:00+23:59', '2024-01-01t00:00:00.123456789z', '1969-12-31T23:59:59.9999Z'),
      );
    case 'email':
      return fc.emailAddress();
    case 'binary':
      return fc.string();
  }
  const generated =
    typeof schema.pattern === 'string'
      ? fc.stringMatching(new RegExp(schema.pattern), { size: 'xsmall' }).filter(fits)
      : fc.oneof({ weight: 4, arbitrary: fc.string({ minLength, maxLength }) }, { weight: 1, arbitrary: fc.string({ minLength, maxLength, unit: 'grapheme' }) });
  const known = options.words.filter(fits);
  return known.length ? fc.oneof(generated, fc.constantFrom(...known)) : generated;
}

function integerValue(schema: Schema): fc.Arbitrary<number> {
  const low = num(schema.minimum) ?? (num(schema.exclusiveMinimum) ?? -(2 ** 31)) + 1;
  const high = num(schema.maximum) ?? (num(schema.exclusiveMaximum) ?? 2 ** 31) - 1;
  // The bounds themselves most of all: that is where columns overflow.
  return fc.oneof(fc.constantFrom(low, high), fc.bigInt({ min: BigInt(Math.ceil(low)), max: BigInt(Math.floor(high)) }).map(Number));
}

function numberValue(schema: Schema): fc.Arbitrary<number> {
  const min = num(schema.minimum) ?? num(schema.exclusiveMinimum) ?? -1e6;
  const max = num(schema.maximum) ?? num(schema.exclusiveMaximum) ?? 1e6;
  return fc.double({ min, max, minExcluded: schema.exclusiveMinimum !== undefined, maxExcluded: schema.exclusiveMaximum !== undefined, noNaN: true });
}

function objectValue(schema: Schema, options: ValueOptions, depth: number): fc.Arbitrary<unknown> {
  const properties = (schema.properties ?? {}) as Record<string, Schema>;
  const required = Array.isArray(schema.required) ? (schema.required as string[]) : [];
  // An optional property now and then (a third of the time): each one is another rule a request
  // can break, and a request that breaks none gets further.
  const optional = (arb: fc.Arbitrary<unknown>) => fc.oneof({ weight: 2, arbitrary: fc.constant(undefined) }, { weight: 1, arbitrary: arb });
  const known = fc.record(
    Object.fromEntries(Object.entries(properties).map(([name, property]) => [name, required.includes(name) ? valueOf(property, options, depth + 1) : optional(valueOf(property, options, depth + 1))])),
  );
  const extra = schema.additionalProperties;
  if (extra === false || (extra === undefined && Object.keys(properties).length)) return known;
  // Free-form members (an item's meta) hold anything JSON does, hostile included.
  const freeForm = fc.jsonValue({ maxDepth: 2, depthSize: 'xsmall' });
  const values = extra && typeof extra === 'object' ? valueOf(extra as Schema, options, depth + 1) : options.hostility ? fc.oneof({ weight: 3, arbitrary: freeForm }, { weight: 1, arbitrary: anyValue }) : freeForm;
  const keys = options.words.length ? fc.oneof(fc.string({ maxLength: 12 }), fc.constantFrom(...options.words)) : fc.string({ maxLength: 12 });
  const minKeys = num(schema.minProperties) ?? 0;
  return fc.tuple(known, fc.dictionary(keys, values, { minKeys, maxKeys: Math.max(minKeys, 3) })).map(([a, b]) => ({ ...b, ...a }));
}

/** A value the schema allows (mostly: patterns and formats are met as fast-check can). */
function allowedValue(schema: Schema, options: ValueOptions, depth: number): fc.Arbitrary<unknown> {
  if (typeof schema.$ref === 'string') {
    const target = options.schemas[schema.$ref.split('/').pop()!];
    if (!target) throw new Error(`unresolved $ref ${schema.$ref}`);
    return valueOf(target, options, depth + 1);
  }
  if ('const' in schema) return fc.constant(schema.const);
  if (Array.isArray(schema.enum)) return fc.constantFrom(...(schema.enum as unknown[]));
  for (const key of ['anyOf', 'oneOf'] as const) {
    if (Array.isArray(schema[key])) return fc.oneof(...(schema[key] as Schema[]).map((branch) => valueOf(branch, options, depth + 1)));
  }
  if (Array.isArray(schema.allOf)) {
    const branches = (schema.allOf as Schema[]).map((branch) => valueOf(branch, options, depth + 1));
    return fc.tuple(...branches).map((parts) => Object.assign({}, ...parts.map((part) => (part && typeof part === 'object' ? part : {}))));
  }
  const types = typesOf(schema);
  if (!types.length) return schema.properties ? objectValue(schema, options, depth) : fc.jsonValue({ maxDepth: 2, depthSize: 'xsmall' });
  return fc.oneof(
    ...types.map((type): fc.Arbitrary<unknown> => {
      switch (type) {
        case 'string':
          return stringValue(schema, options);
        case 'integer':
          return integerValue(schema);
        case 'number':
          return numberValue(schema);
        case 'boolean':
          return fc.boolean();
        case 'null':
          return fc.constant(null);
        case 'array': {
          const items = valueOf((schema.items ?? {}) as Schema, options, depth + 1);
          const minLength = num(schema.minItems) ?? 0;
          const maxLength = Math.max(minLength, Math.min(num(schema.maxItems) ?? LONGEST_LIST, LONGEST_LIST));
          return schema.uniqueItems ? fc.uniqueArray(items, { minLength, maxLength, selector: (v) => JSON.stringify(v) }) : fc.array(items, { minLength, maxLength });
        }
        case 'object':
          return objectValue(schema, options, depth);
        default:
          throw new Error(`schema type ${String(type)} is not generated`);
      }
    }),
  );
}

/** What breaks a schema at this node: its own kind of hostile value, or one of the wrong type. */
function hostileValue(schema: Schema): fc.Arbitrary<unknown> {
  const types = typesOf(schema);
  const own = types.includes('string') ? hostileString : types.includes('integer') || types.includes('number') ? hostileNumber : anyValue;
  return fc.oneof({ weight: 3, arbitrary: own }, { weight: 1, arbitrary: anyValue });
}

/**
 * An arbitrary for values of a JSON Schema of the spec: mostly ones it allows, and (with
 * `hostility`) at every node now and then a hostile one in its place, so a request breaks its
 * schema in one deep place as often as in many. Deep schemas stop at MAX_DEPTH with null.
 */
export function valueOf(schema: Schema, options: ValueOptions, depth = 0): fc.Arbitrary<unknown> {
  if (depth > MAX_DEPTH) return fc.constant(null);
  const allowed = allowedValue(schema, options, depth);
  if (!options.hostility) return allowed;
  return fc.oneof({ weight: 10, arbitrary: allowed }, { weight: options.hostility, arbitrary: hostileValue(schema) });
}
