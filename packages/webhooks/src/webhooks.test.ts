import { createHmac } from 'node:crypto';
import { Webhook } from 'standardwebhooks';
import { generateWebhookSecret, signWebhook, verifyWebhook, WebhookVerificationError, type WebhookFailureReason } from './index';

// The Standard Webhooks test vector, as the specification's reference libraries test it
// (github.com/standard-webhooks/standard-webhooks, libraries/javascript/src/webhook.test.ts,
// "sign function works"; the Go, Python, Java and C# libraries' tests use the same values).
const VECTOR = {
  secret: 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw',
  id: 'msg_p5jXN8AQM9LWM0D4loKWxJek',
  seconds: 1614265330,
  body: '{"test": 2432232314}',
  signature: 'v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=',
};
// Decoys from the same file's "multi sig payload is valid": well-formed signatures of something else.
const DECOY_V1 = 'v1,Ceo5qEr07ixe2NLpvHk3FH9bwy/WavXrAFQ/9tdO6mc=';
const DECOY_V2 = 'v2,Ceo5qEr07ixe2NLpvHk3FH9bwy/WavXrAFQ/9tdO6mc=';

const signedAt = new Date(VECTOR.seconds * 1000);
const vectorHeaders = { 'webhook-id': VECTOR.id, 'webhook-timestamp': String(VECTOR.seconds), 'webhook-signature': VECTOR.signature };

function refusal(run: () => unknown): WebhookFailureReason | 'accepted' {
  try {
    run();
    return 'accepted';
  } catch (error) {
    if (error instanceof WebhookVerificationError) return error.reason;
    throw error;
  }
}

describe('signWebhook', () => {
  it('reproduces the specification\'s test vector', () => {
    expect(signWebhook({ secret: VECTOR.secret, id: VECTOR.id, timestamp: signedAt, body: VECTOR.body })).toEqual(vectorHeaders);
    // The secret without its prefix (as the reference libraries also take it), and the body as bytes.
    const bare = VECTOR.secret.slice('whsec_'.length);
    expect(signWebhook({ secret: bare, id: VECTOR.id, timestamp: signedAt, body: Buffer.from(VECTOR.body) })['webhook-signature']).toBe(VECTOR.signature);
  });

  it('signs whole seconds ("id.timestamp.body" with HMAC-SHA256 under the decoded secret)', () => {
    const secret = generateWebhookSecret();
    const headers = signWebhook({ secret, id: 'msg_1', timestamp: new Date(1_700_000_000_999), body: '{"a":1}' });
    expect(headers['webhook-timestamp']).toBe('1700000000');
    const key = Buffer.from(secret.slice('whsec_'.length), 'base64');
    const mac = createHmac('sha256', key).update('msg_1.1700000000.{"a":1}').digest('base64');
    expect(headers['webhook-signature']).toBe(`v1,${mac}`);
  });

  it('refuses an id the receiver would refuse, and a secret that is not one', () => {
    expect(() => signWebhook({ secret: VECTOR.secret, id: 'a.b', timestamp: signedAt, body: '' })).toThrow(RangeError);
    expect(() => signWebhook({ secret: VECTOR.secret, id: '', timestamp: signedAt, body: '' })).toThrow(RangeError);
    expect(refusal(() => signWebhook({ secret: 'whsec_', id: 'x', timestamp: signedAt, body: '' }))).toBe('bad-secret');
    expect(refusal(() => signWebhook({ secret: 'whsec_not base64!', id: 'x', timestamp: signedAt, body: '' }))).toBe('bad-secret');
  });
});

describe('generateWebhookSecret', () => {
  it('is whsec_ and the base64 of 32 random bytes, different each time, usable by the reference library', () => {
    const a = generateWebhookSecret();
    const b = generateWebhookSecret();
    expect(a).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);
    expect(Buffer.from(a.slice(6), 'base64')).toHaveLength(32);
    expect(a).not.toBe(b);
    const headers = signWebhook({ secret: a, id: 'msg_x', timestamp: new Date(), body: '{}' });
    expect(() => new Webhook(a).verify('{}', { ...headers })).not.toThrow();
  });
});

describe('verifyWebhook', () => {
  const verify = (overrides: Partial<Parameters<typeof verifyWebhook>[0]> = {}) =>
    verifyWebhook({ secrets: [VECTOR.secret], headers: vectorHeaders, rawBody: VECTOR.body, now: signedAt, ...overrides });

  it('accepts the specification\'s test vector and returns its id and time', () => {
    expect(verify()).toEqual({ id: VECTOR.id, timestamp: signedAt });
    expect(verify({ rawBody: Buffer.from(VECTOR.body) })).toEqual({ id: VECTOR.id, timestamp: signedAt });
    // fetch's Headers, and header names in any case.
    expect(verify({ headers: new Headers(vectorHeaders) }).id).toBe(VECTOR.id);
    expect(verify({ headers: { 'Webhook-Id': VECTOR.id, 'WEBHOOK-TIMESTAMP': String(VECTOR.seconds), 'webhook-signature': VECTOR.signature } }).id).toBe(VECTOR.id);
  });

  it('accepts what the reference library signs, and the library accepts what this package signs', () => {
    const secret = generateWebhookSecret();
    const now = new Date();
    const body = '{"items":[{"external_id":"é","text":"ünïcode ✓"}]}';
    const theirs = new Webhook(secret).sign('msg_lib', now, body);
    const headers = { 'webhook-id': 'msg_lib', 'webhook-timestamp': String(Math.floor(now.getTime() / 1000)), 'webhook-signature': theirs };
    expect(verifyWebhook({ secrets: [secret], headers, rawBody: Buffer.from(body), now }).id).toBe('msg_lib');
    const ours = signWebhook({ secret, id: 'msg_ours', timestamp: now, body });
    expect(new Webhook(secret).verify(body, { ...ours })).toEqual(JSON.parse(body));
  });

  it('refuses a tampered body, id or timestamp', () => {
    expect(refusal(() => verify({ rawBody: '{"test": 2432232315}' }))).toBe('bad-signature');
    expect(refusal(() => verify({ rawBody: VECTOR.body + ' ' }))).toBe('bad-signature');
    expect(refusal(() => verify({ rawBody: '' }))).toBe('bad-signature');
    expect(refusal(() => verify({ headers: { ...vectorHeaders, 'webhook-id': 'msg_other' } }))).toBe('bad-signature');
    const oneLater = String(VECTOR.seconds + 1);
    expect(refusal(() => verify({ headers: { ...vectorHeaders, 'webhook-timestamp': oneLater } }))).toBe('bad-signature');
  });

  it('verifies the raw bytes: a body that is not UTF-8 matches no signature, a BOM is signed as sent', () => {
    const notUtf8 = Buffer.concat([Buffer.from('{"a":"'), Buffer.from([0xff]), Buffer.from('"}')]);
    const replaced = notUtf8.toString('utf8'); // what a lossy decode would have verified instead
    const signed = signWebhook({ secret: VECTOR.secret, id: 'msg_b', timestamp: signedAt, body: replaced });
    expect(refusal(() => verify({ headers: signed, rawBody: notUtf8 }))).toBe('bad-signature');
    const withBom = Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from('{}')]);
    const bomSigned = signWebhook({ secret: VECTOR.secret, id: 'msg_bom', timestamp: signedAt, body: withBom });
    expect(verify({ headers: bomSigned, rawBody: withBom }).id).toBe('msg_bom');
    expect(refusal(() => verify({ headers: bomSigned, rawBody: '{}' }))).toBe('bad-signature');
  });

  it('refuses a wrong secret, and names a secret that is not one', () => {
    expect(refusal(() => verify({ secrets: [generateWebhookSecret()] }))).toBe('bad-signature');
    expect(refusal(() => verify({ secrets: [] }))).toBe('bad-secret');
    expect(refusal(() => verify({ secrets: ['whsec_'] }))).toBe('bad-secret');
    expect(refusal(() => verify({ secrets: [VECTOR.secret, 'whsec_%%%'] }))).toBe('bad-secret');
  });

  it('accepts any of several signatures (space-separated), skipping other versions', () => {
    const header = [DECOY_V1, DECOY_V2, VECTOR.signature, DECOY_V1].join(' ');
    expect(verify({ headers: { ...vectorHeaders, 'webhook-signature': header } }).id).toBe(VECTOR.id);
    expect(refusal(() => verify({ headers: { ...vectorHeaders, 'webhook-signature': `${DECOY_V1} ${DECOY_V2}` } }))).toBe('bad-signature');
    // The right signature under another version name is not a v1 signature.
    expect(refusal(() => verify({ headers: { ...vectorHeaders, 'webhook-signature': VECTOR.signature.replace('v1,', 'v1a,') } }))).toBe('bad-signature');
    expect(refusal(() => verify({ headers: { ...vectorHeaders, 'webhook-signature': VECTOR.signature.slice(0, 8) } }))).toBe('bad-signature');
    expect(refusal(() => verify({ headers: { ...vectorHeaders, 'webhook-signature': 'v1,' } }))).toBe('bad-signature');
  });

  it('accepts either secret of a rotation: the current one and the previous one', () => {
    const current = generateWebhookSecret();
    expect(verify({ secrets: [current, VECTOR.secret] }).id).toBe(VECTOR.id);
    expect(verify({ secrets: [VECTOR.secret, current] }).id).toBe(VECTOR.id);
    // A sender mid-rotation signs with both: either secret alone verifies it.
    const both = [signWebhook({ secret: current, id: 'msg_r', timestamp: signedAt, body: '{}' }), signWebhook({ secret: VECTOR.secret, id: 'msg_r', timestamp: signedAt, body: '{}' })];
    const headers = { ...both[0]!, 'webhook-signature': `${both[0]!['webhook-signature']} ${both[1]!['webhook-signature']}` };
    for (const secrets of [[current], [VECTOR.secret]]) expect(verify({ secrets, headers, rawBody: '{}' }).id).toBe('msg_r');
  });

  it('refuses a timestamp beyond the tolerance either way, and takes one at its edge', () => {
    const at = (offsetSeconds: number, toleranceSeconds?: number) => refusal(() => verify({ now: new Date((VECTOR.seconds + offsetSeconds) * 1000), toleranceSeconds }));
    expect(at(300)).toBe('accepted');
    expect(at(301)).toBe('timestamp-too-old');
    expect(at(-300)).toBe('accepted');
    expect(at(-301)).toBe('timestamp-too-new');
    expect(at(61, 60)).toBe('timestamp-too-old');
    expect(at(-61, 60)).toBe('timestamp-too-new');
    // Checked before the signature: the answer does not depend on which secret is right.
    expect(refusal(() => verify({ now: new Date((VECTOR.seconds + 301) * 1000), secrets: [generateWebhookSecret()] }))).toBe('timestamp-too-old');
  });

  it('refuses missing or malformed headers', () => {
    for (const name of ['webhook-id', 'webhook-timestamp', 'webhook-signature'] as const) {
      const { [name]: _, ...rest } = vectorHeaders;
      expect([name, refusal(() => verify({ headers: rest }))]).toEqual([name, 'missing-headers']);
      expect([name, refusal(() => verify({ headers: { ...vectorHeaders, [name]: '  ' } }))]).toEqual([name, 'missing-headers']);
    }
    for (const timestamp of ['hello', '1614265330.5', '-1614265330', '1614265330abc', '1'.repeat(13)]) {
      expect([timestamp, refusal(() => verify({ headers: { ...vectorHeaders, 'webhook-timestamp': timestamp } }))]).toEqual([timestamp, 'missing-headers']);
    }
    expect(refusal(() => verify({ headers: { ...vectorHeaders, 'webhook-id': 'msg.1' } }))).toBe('missing-headers');
    // A repeated header (Node gives an array) is ambiguous.
    expect(refusal(() => verify({ headers: { ...vectorHeaders, 'webhook-id': [VECTOR.id, 'msg_2'] } }))).toBe('missing-headers');
  });

  it('throws a typed error with a message', () => {
    expect(() => verify({ rawBody: 'tampered' })).toThrow(WebhookVerificationError);
    expect(() => verify({ rawBody: 'tampered' })).toThrow('no signature matches');
  });
});
