import { gzipSync } from 'node:zlib';
import type { RawRequest } from '@alder/http/testing';
import { signWebhook } from '@alder/webhooks';
import { jsonText, RawJson } from './json-text';
import type { KnownValues } from './known-values';
import { percentEncode } from './percent-encoding';
import type { BodyPlan, FormPart, RequestPlan, Slot } from './request-plan';

/** The keys and secrets a request may be sent with. */
export interface Credentials {
  adminKey: string;
  /** Keys of members of the seeded project, of several roles. */
  memberKeys: readonly string[];
}

const BOUNDARY = 'alder-fuzz-boundary';
/** A signature of a secret nobody has (the right shape, the wrong bytes). */
const MADE_UP_SECRET = 'whsec_' + Buffer.alloc(32, 7).toString('base64');

/** A generated value as URL text (before percent-encoding). */
function textOf(value: unknown): string {
  if (typeof value === 'string') return value;
  if (value instanceof RawJson) return value.text;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  return jsonText(value);
}

function slotText(name: string, slot: Slot, known: KnownValues, method: string): string {
  if ('raw' in slot) return slot.raw;
  if ('known' in slot) return percentEncode(known.pick(name, slot.known, method) ?? textOf(slot.fallback));
  return percentEncode(textOf(slot.value));
}

function formBytes(parts: FormPart[]): Buffer {
  const chunks: Buffer[] = [];
  for (const part of parts) {
    const disposition = `form-data; name="${part.name}"${part.filename === undefined ? '' : `; filename="${part.filename}"`}`;
    const head = [`--${BOUNDARY}`, `Content-Disposition: ${disposition}`, ...(part.type ? [`Content-Type: ${part.type}`] : [])].join('\r\n');
    chunks.push(Buffer.from(`${head}\r\n\r\n`, 'latin1'), Buffer.from(part.content), Buffer.from('\r\n'));
  }
  chunks.push(Buffer.from(`--${BOUNDARY}--\r\n`));
  return Buffer.concat(chunks);
}

/** The body's bytes as the payload says, then damaged as the plan says (before any compression). */
function bodyBytes(body: BodyPlan): Buffer {
  const { payload } = body;
  let bytes: Buffer;
  if ('json' in payload) bytes = Buffer.from(jsonText(payload.json));
  else if ('lines' in payload) bytes = Buffer.from(payload.lines.map((line) => jsonText(line)).join('\n') + '\n');
  else if ('form' in payload) bytes = formBytes(payload.form);
  else bytes = Buffer.from(payload.bytes);
  const { damage } = body;
  if (damage && 'invalidUtf8' in damage) {
    const at = bytes.length ? damage.at % bytes.length : 0;
    bytes = Buffer.concat([bytes.subarray(0, at), Buffer.from(damage.invalidUtf8), bytes.subarray(at)]);
  } else if (damage && 'truncateAt' in damage) {
    bytes = bytes.subarray(0, bytes.length ? damage.truncateAt % bytes.length : 0);
  }
  return bytes;
}

function authHeaders(plan: RequestPlan, credentials: Credentials): Record<string, string> {
  switch (plan.auth) {
    case 'admin':
      return { authorization: `Bearer ${credentials.adminKey}` };
    case 'member':
      return credentials.memberKeys.length ? { 'x-api-key': credentials.memberKeys[plan.keyIndex % credentials.memberKeys.length]! } : {};
    case 'none':
      return {};
    case 'unknown':
      return { authorization: 'Bearer alder_00000000000000000000000000000000' };
    case 'malformed':
      return { authorization: ['Bearer', 'Basic Zm9vOmJhcg==', 'Bearer  ', `Bearer ${credentials.adminKey} extra`, 'bearer \u00e9\u00ff'][plan.keyIndex % 5]! };
  }
}

/**
 * The bytes of a planned request, with the app's ids in place of the plan's positions: the URL
 * (each value percent-encoded, raw text as it is), the key, the headers, the body (compressed,
 * corrupted, signed as planned).
 */
export function requestBytes(plan: RequestPlan, known: KnownValues, credentials: Credentials): RawRequest & { pathValues: Record<string, string> } {
  const pathValues: Record<string, string> = {};
  let path = plan.path.replace(/\{([^}]+)\}/g, (_whole, name: string) => {
    const text = slotText(name, plan.pathSlots[name]!, known, plan.method);
    pathValues[name] = decodeURIComponentSafe(text);
    return text;
  });
  if (!path.startsWith('/')) path = `/${path}`;
  if (plan.query.length) path += `?${plan.query.map(([name, slot]) => `${percentEncode(name)}=${slotText(name, slot, known, plan.method)}`).join('&')}`;
  // Node's client refuses what no HTTP request line may hold (spaces, control characters): such a path is written encoded.
  path = path.replace(/[^\x21-\x7e]/g, (char) => percentEncode(char));

  const headers: Record<string, string> = { ...authHeaders(plan, credentials) };
  for (const [name, value] of plan.headers) headers[name] = value;
  let body: Buffer | undefined;
  if (plan.body) {
    const bytes = bodyBytes(plan.body);
    if (plan.signature !== 'none') {
      const secret = plan.signature === 'made-up' ? MADE_UP_SECRET : (known.secrets.get(pathValues.integration_id ?? '') ?? MADE_UP_SECRET);
      const timestamp = plan.signature === 'stale' ? new Date(Date.now() - 3_600_000) : new Date();
      Object.assign(headers, signedHeaders(secret, plan.webhookId, timestamp, bytes));
    }
    if (plan.body.contentType !== null) headers['content-type'] = plan.body.contentType.replace('{boundary}', BOUNDARY);
    if (plan.body.encoding === 'gzip') {
      body = gzipSync(bytes);
      headers['content-encoding'] = 'gzip';
    } else if (plan.body.encoding === 'corrupt-gzip') {
      body = Buffer.concat([gzipSync(bytes).subarray(0, 12), Buffer.from('not gzip')]);
      headers['content-encoding'] = 'gzip';
    } else if (plan.body.encoding === 'unsupported') {
      body = bytes;
      headers['content-encoding'] = 'br';
    } else body = bytes;
  }
  return { method: plan.method, path, headers, body, pathValues };
}

/** Standard Webhooks headers for the body; a body that is not UTF-8 can not be signed, and gets a signature of the right shape that matches nothing. */
function signedHeaders(secret: string, id: string, timestamp: Date, body: Buffer): Record<string, string> {
  try {
    return signWebhook({ secret, id, timestamp, body });
  } catch {
    return { 'webhook-id': id, 'webhook-timestamp': String(Math.floor(timestamp.getTime() / 1000)), 'webhook-signature': `v1,${Buffer.alloc(32).toString('base64')}` };
  }
}

function decodeURIComponentSafe(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}
