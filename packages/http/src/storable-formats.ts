/** A format as Ajv keeps it: a validating function, or an object holding one (ajv-formats' `date-time`). */
type FormatDefinition = ((value: string) => boolean) | { validate: (value: string) => boolean; compare?: unknown };

/** The part of an Ajv instance this needs (fastify's compiler passes its own to `ajv.onCreate`). */
interface FormatRegistry {
  formats: Record<string, FormatDefinition | undefined>;
  addFormat(name: string, format: { type?: 'number' | 'string'; validate: (value: never) => boolean; compare?: unknown }): unknown;
}

/** The largest finite float4 (FLT_MAX). */
const FLOAT4_MAX = 3.4028234663852886e38;

/**
 * Instants every date-time is held to: years 1 to 9999 in UTC, what ISO text (`toISOString`)
 * writes with four digits and Postgres reads back. Year 0, or a year past 9999 once the offset is
 * applied, would be refused by Postgres mid-query (a 500), or by Date.
 */
const EARLIEST = Date.parse('0001-01-01T00:00:00Z');
const LATEST = Date.parse('9999-12-31T23:59:59.999Z');
/** Postgres refuses a UTC offset of 16 hours or more ("time zone displacement out of range"); RFC 3339 allows up to 23:59. */
const OFFSET = /([+-])(\d\d):?(\d\d)$/;

function storableInstant(text: string): boolean {
  const offset = OFFSET.exec(text);
  if (offset && Number(offset[2]) > 15) return false;
  const time = Date.parse(text);
  return Number.isFinite(time) && time >= EARLIEST && time <= LATEST;
}

/**
 * Formats whose values Postgres can store, replacing ajv-formats' (which follow only their
 * RFCs), so the schema answers 422 where a query would fail:
 * - `float` (OpenAPI's 32-bit float), for numbers stored in `real` columns: finite, within
 *   float4's range, and not so small that it rounds to zero as a float4 (Postgres refuses such
 *   an underflow, `5e-324` into a real, with an error).
 * - `date-time`: RFC 3339 as before, and an instant of years 1 to 9999 with an offset under 16 hours.
 */
export function addStorableFormats(ajv: FormatRegistry): void {
  ajv.addFormat('float', { type: 'number', validate: (x: number) => Number.isFinite(x) && Math.abs(x) <= FLOAT4_MAX && (x === 0 || Math.fround(x) !== 0) });
  const rfc3339 = ajv.formats['date-time'];
  if (!rfc3339) throw new Error('ajv-formats must be added before the storable formats (date-time is missing)');
  const validate = typeof rfc3339 === 'function' ? rfc3339 : rfc3339.validate;
  const compare = typeof rfc3339 === 'function' ? undefined : rfc3339.compare;
  ajv.addFormat('date-time', { type: 'string', validate: (text: string) => validate(text) && storableInstant(text), ...(compare !== undefined && { compare }) });
}
