import fc from 'fast-check';
import { anyValue, hostileString } from './hostile-values';
import { jsonText } from './json-text';
import type { Operation, Parameter, Schema } from './operations';
import { withOneMutation } from './one-mutation';
import { valueOf, type ValueOptions } from './schema-values';

/**
 * Where a path or query value comes from: an id the app has (`known`, by position, with a value
 * of the schema to use when none is known yet), a generated value (allowed or hostile), or text
 * put into the URL unencoded (bad percent-encoding, dot segments, a very long segment).
 */
export type Slot = { known: number; fallback: unknown } | { value: unknown } | { raw: string };

/** The key a request carries: the fuzzer's admin's, a project member's, none, an unknown one, or a malformed header. */
export type Auth = 'admin' | 'member' | 'none' | 'unknown' | 'malformed';

/** A signed operation's signature: made with the integration's secret, made too long ago, made up, or left out. */
export type Signature = 'valid' | 'stale' | 'made-up' | 'none';

export interface FormPart {
  name: string;
  filename?: string;
  type?: string;
  content: string | Uint8Array;
}

/** What the body holds before it is written out as bytes. */
export type Payload = { json: unknown } | { lines: unknown[] } | { form: FormPart[] } | { bytes: Uint8Array };

/** Damage done to the body's bytes once written: the kinds of bytes a broken client or an attacker sends. */
export type Damage = { invalidUtf8: readonly number[]; at: number } | { truncateAt: number } | null;

export interface BodyPlan {
  payload: Payload;
  /** The Content-Type header (null: none); `{boundary}` stands for the form's boundary. */
  contentType: string | null;
  encoding: 'identity' | 'gzip' | 'corrupt-gzip' | 'unsupported';
  damage: Damage;
}

/** One request, as generated: symbolic where it names the app's ids, so a seed replays it. */
export interface RequestPlan {
  /** The operationId, or `system` / `off-route` for requests outside the spec's operations. */
  target: string;
  method: string;
  /** The path template (`/v1/projects/{project_id}`) or a literal path. */
  path: string;
  pathSlots: Record<string, Slot>;
  query: [string, Slot][];
  headers: [string, string][];
  auth: Auth;
  /** Which member's key, or which malformed header, when `auth` asks for one. */
  keyIndex: number;
  signature: Signature;
  webhookId: string;
  body: BodyPlan | null;
}

const METHODS = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS', 'HEAD'];
const SYSTEM_PATHS = ['/healthz', '/readyz', '/openapi.json', '/docs', '/docs/static/index.css', '/', '/v1', '/v1/', '/v2/projects', '/v1/projects/', '//v1//projects'];

/** URL text no encoder would write: bad percent-encoding, encoded NUL and slash, dot segments, a segment longer than the router takes. */
const rawSegment = fc.constantFrom('%', '%z', '%zz', '%E0%A4%A', '%ff', '%C0%AF', '%ED%A0%80', '%00', '%2F', '%2e%2e', '..', '.', '', '%u0041', 'a'.repeat(600), '%F0%9F%98'.repeat(3));

/** Header values as Node writes them: printable Latin-1 only (a client can send no other bytes through it). */
const headerText = (value: unknown): string => (typeof value === 'string' ? value : JSON.stringify(value) ?? '').replace(/[^\t\x20-\x7e\x80-\xff]/g, '?').slice(0, 1024);

export interface PlanOptions {
  /** For values that respect their schemas and for ones that do not. */
  allowed: ValueOptions;
  hostile: ValueOptions;
  /** The item schema, for the lines of an NDJSON stream and a file import. */
  itemSchema: Schema;
}

function slotFor(parameter: Parameter, options: PlanOptions, knowable: boolean): fc.Arbitrary<Slot> {
  const value = fc.oneof({ weight: 3, arbitrary: valueOf(parameter.schema, options.allowed) }, { weight: 2, arbitrary: valueOf(parameter.schema, options.hostile) });
  return fc.oneof(
    ...(knowable ? [{ weight: 12, arbitrary: fc.record({ known: fc.nat(), fallback: valueOf(parameter.schema, options.allowed) }) }] : []),
    { weight: 3, arbitrary: value.map((v) => ({ value: v })) },
    { weight: 1, arbitrary: rawSegment.map((raw) => ({ raw })) },
  );
}

function formParts(options: PlanOptions): fc.Arbitrary<FormPart[]> {
  const item = valueOf(options.itemSchema, options.allowed);
  const jsonl = fc.array(fc.oneof(item, withOneMutation(item)), { maxLength: 4 }).map((items) => items.map((value) => jsonText(value)).join('\n'));
  const csv = fc
    .tuple(fc.constantFrom('external_id,text', 'id,body,category', 'external_id,text,label,meta', ''), fc.array(fc.array(fc.oneof(fc.string({ maxLength: 8 }), hostileString, fc.constantFrom('pos', '"q""uote"', '"open')), { minLength: 1, maxLength: 4 }), { maxLength: 4 }))
    .map(([header, rows]) => [header, ...rows.map((cells) => cells.join(','))].join('\r\n'));
  const file = fc.record(
    {
      name: fc.constantFrom('file', 'file', 'upload'),
      filename: fc.constantFrom('items.jsonl', 'items.csv', 'items.ndjson.gz', 'x', '../x.csv', 'caf\u00e9.csv'),
      type: fc.constantFrom('application/x-ndjson', 'text/csv', 'application/jsonl', 'application/octet-stream', 'application/gzip', 'image/png', 'text/csv; charset=latin1'),
      content: fc.oneof(jsonl, csv, fc.uint8Array({ maxLength: 64 })),
    },
    { requiredKeys: ['name', 'content'] },
  );
  const field = fc.record({
    name: fc.constantFrom('format', 'mapping', 'colour'),
    content: fc.oneof(fc.constantFrom('jsonl', 'csv', 'xml', '{"external_id":"id","text":"body","label":"category"}', '{"external_id":"@line","meta":["a","b"]}', '{"nope":1}', '{', '[]'), hostileString),
  });
  return fc.tuple(fc.array(field, { maxLength: 3 }), fc.option(file, { freq: 8 }), fc.array(field, { maxLength: 1 })).map(([before, f, after]) => [...before, ...(f ? [f] : []), ...after]);
}

function payloadFor(mediaType: string, schema: Schema, options: PlanOptions): fc.Arbitrary<Payload> {
  if (mediaType === 'application/x-ndjson') {
    const item = valueOf(options.itemSchema, options.allowed);
    const line = fc.oneof(
      { weight: 5, arbitrary: item },
      { weight: 3, arbitrary: withOneMutation(item) },
      { weight: 1, arbitrary: valueOf(options.itemSchema, options.hostile) },
      { weight: 1, arbitrary: anyValue },
    );
    return fc.array(line, { maxLength: 6 }).map((lines) => ({ lines }));
  }
  if (mediaType === 'multipart/form-data') return formParts(options).map((form) => ({ form }));
  const allowed = valueOf(schema, options.allowed);
  return fc
    .oneof({ weight: 3, arbitrary: allowed }, { weight: 2, arbitrary: withOneMutation(allowed) }, { weight: 1, arbitrary: valueOf(schema, options.hostile) })
    .map((json) => ({ json }));
}

function contentTypeFor(mediaType: string): fc.Arbitrary<string | null> {
  const own = mediaType === 'multipart/form-data' ? 'multipart/form-data; boundary={boundary}' : mediaType;
  return fc.oneof(
    { weight: 20, arbitrary: fc.constant(own) },
    {
      weight: 3,
      arbitrary: fc.constantFrom<string | null>(
        null,
        'text/plain',
        'application/xml',
        'application/problem+json',
        `${own}; charset=utf-8`,
        `${own}; charset=latin1`,
        `${own}; charset="UTF-16"`,
        'application/json; charset=',
        'multipart/form-data',
        'multipart/form-data; boundary=',
        'application/x-ndjson',
        'multipart/form-data; boundary={boundary}',
        '*/*',
        'a/b/c',
        ';;;',
        'application/json, text/plain',
      ),
    },
  );
}

const damage: fc.Arbitrary<Damage> = fc.oneof(
  { weight: 16, arbitrary: fc.constant(null) },
  { weight: 2, arbitrary: fc.record({ invalidUtf8: fc.constantFrom<readonly number[]>([0xff], [0xfe, 0xff], [0xc0, 0xaf], [0xed, 0xa0, 0x80], [0xe2, 0x82], [0xf4, 0x90, 0x80, 0x80], [0x80]), at: fc.nat() }) },
  { weight: 1, arbitrary: fc.record({ truncateAt: fc.nat() }) },
);

function bodyFor(operation: Operation, options: PlanOptions): fc.Arbitrary<BodyPlan | null> {
  if (!operation.body) {
    // A body where none is taken, now and then.
    return fc.option(fc.record({ payload: anyValue.map((json) => ({ json }) as Payload), contentType: fc.constant('application/json'), encoding: fc.constant('identity' as const), damage: fc.constant(null) }), { freq: 10 });
  }
  const types = Object.entries(operation.body.content);
  const planned = fc.constantFrom(...types).chain(([mediaType, schema]) =>
    fc.record({
      payload: fc.oneof({ weight: 12, arbitrary: payloadFor(mediaType, schema, options) }, { weight: 1, arbitrary: fc.uint8Array({ maxLength: 48 }).map((bytes) => ({ bytes }) as Payload) }),
      contentType: contentTypeFor(mediaType),
      encoding: fc.oneof({ weight: 14, arbitrary: fc.constant('identity' as const) }, { weight: 2, arbitrary: fc.constant('gzip' as const) }, { weight: 1, arbitrary: fc.constantFrom('corrupt-gzip' as const, 'unsupported' as const) }),
      damage,
    }),
  );
  return fc.option(planned, { freq: operation.body.required ? 12 : 3 });
}

function extraHeaders(): fc.Arbitrary<[string, string][]> {
  const requestId = fc.oneof(fc.uuid(), fc.stringMatching(/^[A-Za-z0-9._:-]{1,128}$/), hostileString.map(headerText), fc.constant('x'.repeat(300)));
  return fc.array(
    fc.oneof(
      requestId.map((id): [string, string] => ['x-request-id', id]),
      fc.constantFrom<[string, string]>(['accept', 'application/xml'], ['origin', 'https://evil.example'], ['access-control-request-method', 'POST'], ['accept-encoding', 'gzip'], ['expect', '100-continue'], ['content-language', '\u00e9']),
    ),
    { maxLength: 2 },
  );
}

const auth = fc.oneof({ weight: 10, arbitrary: fc.constant<Auth>('admin') }, { weight: 3, arbitrary: fc.constantFrom<Auth>('member', 'none', 'unknown', 'malformed') });
const signature = fc.oneof({ weight: 6, arbitrary: fc.constant<Signature>('valid') }, { weight: 1, arbitrary: fc.constantFrom<Signature>('stale', 'made-up', 'none') });
const webhookId = fc.oneof(fc.uuid(), fc.stringMatching(/^[A-Za-z0-9_-]{1,40}$/));

/** Requests of one operation of the spec: its path, query, header parameters and body from its schemas. */
export function operationRequests(operation: Operation, options: PlanOptions, knowable: ReadonlySet<string>): fc.Arbitrary<RequestPlan> {
  const path = operation.parameters.filter((p) => p.in === 'path');
  const query = operation.parameters.filter((p) => p.in === 'query');
  const headers = operation.parameters.filter((p) => p.in === 'header');
  const querySlots = fc
    .tuple(
      ...query.map((p) => fc.option(slotFor(p, options, false).map((slot): [string, Slot] => [p.name, slot]), { freq: 2 })),
      // A parameter the operation does not have, or one given twice.
      fc.option(fc.tuple(fc.constantFrom(...query.map((p) => p.name), 'unknown', '__proto__'), slotFor({ name: 'x', in: 'query', required: false, schema: {} }, options, false)), { freq: 6 }),
    )
    .map((slots) => slots.filter((slot): slot is [string, Slot] => slot !== null));
  const headerValues = fc
    .tuple(...headers.map((p) => fc.option(fc.oneof(valueOf(p.schema, options.allowed), valueOf(p.schema, options.hostile)).map((v): [string, string] => [p.name.toLowerCase(), headerText(v)]), { freq: 2 })))
    .map((values) => values.filter((value): value is [string, string] => value !== null));
  return fc.record({
    target: fc.constant(operation.operationId),
    method: fc.oneof({ weight: 30, arbitrary: fc.constant(operation.method) }, { weight: 1, arbitrary: fc.constantFrom(...METHODS) }),
    path: fc.constant(operation.path),
    pathSlots: fc.record(Object.fromEntries(path.map((p) => [p.name, slotFor(p, options, knowable.has(p.name))]))) as fc.Arbitrary<Record<string, Slot>>,
    query: querySlots,
    headers: fc.tuple(headerValues, extraHeaders()).map(([a, b]) => [...a, ...b]),
    auth,
    keyIndex: fc.nat({ max: 99 }),
    signature: operation.signed ? signature : fc.constant<Signature>('none'),
    webhookId,
    body: bodyFor(operation, options),
  });
}

/** Requests outside the spec's operations: the system routes, paths no route has, odd methods. */
export function offRouteRequests(options: PlanOptions): fc.Arbitrary<RequestPlan> {
  return fc.record({
    target: fc.constant('off-route'),
    method: fc.constantFrom(...METHODS),
    path: fc.oneof(fc.constantFrom(...SYSTEM_PATHS), fc.webPath({ size: 'small' }), rawSegment.map((s) => `/v1/projects/${s}`)),
    pathSlots: fc.constant({}),
    query: fc.array(fc.tuple(fc.string({ maxLength: 6 }), fc.oneof(fc.record({ value: anyValue }), rawSegment.map((raw) => ({ raw })))), { maxLength: 2 }) as fc.Arbitrary<[string, Slot][]>,
    headers: extraHeaders(),
    auth,
    keyIndex: fc.nat({ max: 99 }),
    signature: fc.constant<Signature>('none'),
    webhookId,
    body: fc.option(fc.record({ payload: anyValue.map((json) => ({ json }) as Payload), contentType: contentTypeFor('application/json'), encoding: fc.constant('identity' as const), damage }), { freq: 5 }),
  });
}
