import { randomUUID } from 'node:crypto';
import { createMember, createUserWithKey, PROJECT_ROLES } from '@alder/http';
import type { TestResponse } from '@alder/http/testing';
import { createLogger } from '@alder/logger';
import { startRetention } from '@alder/queues';
import { generateWebhookSecret, signWebhook } from '@alder/webhooks';
import { receivedWebhooksRetention } from '../src/index';
import { counts, insertProject, outboxJobs, startHarness, type Harness } from './harness';

// The app's clock: webhook timestamps and secret overlaps are measured by it, so the tests move
// it instead of waiting, and no result depends on how fast the machine is.
const BASE = new Date('2026-06-01T12:00:00Z');
let clock = BASE;
const at = (seconds: number) => new Date(BASE.getTime() + seconds * 1000);

let h: Harness;
beforeAll(async () => {
  h = await startHarness({ MAX_ITEMS_PER_BATCH: 20 }, { now: () => clock });
});
afterAll(async () => {
  await h?.close();
});
beforeEach(() => {
  clock = BASE;
});

const auth = (key: string | null = h.adminKey): Record<string, string> => (key ? { authorization: `Bearer ${key}` } : {});
const createIntegration = (projectId: string, payload: unknown = { name: 'crm' }, key: string | null = h.adminKey) =>
  h.http({ method: 'POST', url: `/v1/projects/${projectId}/integrations`, headers: auth(key), payload });
const listIntegrations = (projectId: string, key: string | null = h.adminKey) => h.http({ method: 'GET', url: `/v1/projects/${projectId}/integrations`, headers: auth(key) });
const rotate = (id: string, payload?: unknown, key: string | null = h.adminKey) => h.http({ method: 'POST', url: `/v1/integrations/${id}/rotate-secret`, headers: auth(key), payload });
const remove = (id: string, key: string | null = h.adminKey) => h.http({ method: 'DELETE', url: `/v1/integrations/${id}`, headers: auth(key) });

async function newIntegration(projectId: string): Promise<{ id: string; secret: string }> {
  const res = await createIntegration(projectId);
  if (res.statusCode !== 201) throw new Error(`create integration: ${res.statusCode} ${res.body}`);
  return { id: res.json().id, secret: res.json().secret };
}

let sequence = 0;
interface PushOptions {
  /** Signed with each (space-separated signatures), as a sender in the middle of a rotation does. */
  secrets: string[];
  id?: string;
  /** When the attempt is signed (default: the app's clock). */
  signedAt?: Date;
  /** The body the signature is made over, when not the one sent (a tampered delivery). */
  signedBody?: string;
  headers?: Record<string, string>;
}

/** A delivery as a Standard Webhooks sender makes it: the body's exact text, signed. */
function push(integrationId: string, body: unknown, options: PushOptions): Promise<TestResponse> {
  const text = typeof body === 'string' ? body : JSON.stringify(body);
  const id = options.id ?? `msg_${++sequence}`;
  const timestamp = options.signedAt ?? clock;
  const signed = options.secrets.map((secret) => signWebhook({ secret, id, timestamp, body: options.signedBody ?? text }));
  const headers = { ...signed[0]!, 'webhook-signature': signed.map((s) => s['webhook-signature']).join(' ') };
  return h.http({ method: 'POST', url: `/v1/hooks/${integrationId}/items`, headers: { 'content-type': 'application/json', ...headers, ...options.headers }, payload: text });
}

const batch = (...ids: string[]) => ({ items: ids.map((id) => ({ external_id: id, text: `text of ${id}` })) });
/** What a refusal says, without what differs per request (its id, its path). */
const problem = (res: TestResponse) => ({ status: res.statusCode, type: res.json().type, title: res.json().title, detail: res.json().detail });
const integrationRow = async (id: string) => (await h.db.pool.query('SELECT * FROM integrations WHERE id = $1', [id])).rows[0];
const auditOf = async (subjectId: string) =>
  (await h.db.pool.query('SELECT kind, actor_user_id, actor_key_id, after FROM audit_events WHERE subject_id = $1 ORDER BY id', [subjectId])).rows;

describe('integrations', () => {
  it('a manager creates one and sees its secret once; lists never show it', async () => {
    const projectId = await insertProject(h.db.pool);
    const manager = await createMember(h.db.pool, projectId, 'manager');
    const res = await createIntegration(projectId, { name: 'crm' }, manager.key);
    expect(res.statusCode).toBe(201);
    const created = res.json();
    expect(created).toEqual({
      id: expect.stringMatching(/^[0-9a-f-]{36}$/),
      project_id: projectId,
      name: 'crm',
      hook_path: `/v1/hooks/${created.id}/items`,
      created_at: expect.any(String),
      created_by: manager.userId,
      secret_rotated_at: null,
      previous_secret_expires_at: null,
      secret: expect.stringMatching(/^whsec_[A-Za-z0-9+/]{43}=$/),
    });
    expect((await integrationRow(created.id)).secret).toBe(created.secret);
    // Admins manage every project's integrations.
    expect((await createIntegration(projectId, { name: 'cms' })).statusCode).toBe(201);

    const listed = await listIntegrations(projectId, manager.key);
    expect(listed.statusCode).toBe(200);
    expect(listed.json().data.map((i: { name: string }) => i.name)).toEqual(['crm', 'cms']);
    const { secret, ...shown } = created;
    expect(listed.json().data[0]).toEqual(shown);
    expect(listed.body).not.toMatch(/whsec_|secret"/);
    // The audit trail names who created it, and never the secret.
    expect(await auditOf(created.id)).toEqual([{ kind: 'integration.created', actor_user_id: manager.userId, actor_key_id: manager.keyId, after: { name: 'crm' } }]);
    expect(JSON.stringify(await auditOf(created.id))).not.toContain(secret);
  });

  it('refuses other roles (403), non-members and unknown ids (404), no key (401), and changes nothing', async () => {
    const projectId = await insertProject(h.db.pool);
    const integration = await newIntegration(projectId);
    const others = [];
    for (const role of PROJECT_ROLES.filter((r) => r !== 'manager')) others.push({ label: role, key: (await createMember(h.db.pool, projectId, role)).key });
    const outsiders = [
      { label: 'member of another project', key: (await createMember(h.db.pool, await insertProject(h.db.pool), 'manager')).key },
      { label: 'member of no project', key: (await createUserWithKey(h.db.pool, { name: 'outsider' })).key },
    ];
    const calls = (key: string | null, id = integration.id) => [
      ['create', () => createIntegration(projectId, { name: 'x' }, key)],
      ['list', () => listIntegrations(projectId, key)],
      ['rotate', () => rotate(id, {}, key)],
      ['delete', () => remove(id, key)],
    ] as const;
    const statuses = async (key: string | null, id?: string) => {
      const out: [string, number][] = [];
      for (const [name, call] of calls(key, id)) out.push([name, (await call()).statusCode]);
      return out;
    };
    for (const { label, key } of others) expect([label, await statuses(key)]).toEqual([label, [['create', 403], ['list', 403], ['rotate', 403], ['delete', 403]]]);
    for (const { label, key } of outsiders) expect([label, await statuses(key)]).toEqual([label, [['create', 404], ['list', 404], ['rotate', 404], ['delete', 404]]]);
    expect(await statuses(null)).toEqual([['create', 401], ['list', 401], ['rotate', 401], ['delete', 401]]);
    const unknown = randomUUID();
    expect((await rotate(unknown, {})).json()).toMatchObject({ status: 404, detail: `No integration ${unknown}.` });
    expect((await remove(unknown)).statusCode).toBe(404);
    expect((await remove('not-a-uuid')).statusCode).toBe(404);

    expect((await integrationRow(integration.id)).secret).toBe(integration.secret);
    expect((await listIntegrations(projectId)).json().data).toHaveLength(1);
    expect(await auditOf(integration.id)).toHaveLength(1);
  });

  it('refuses a bad body with 422 and writes nothing', async () => {
    const projectId = await insertProject(h.db.pool);
    const integration = await newIntegration(projectId);
    for (const payload of [{}, { name: '' }, { name: '   ' }, { name: 'x', secret: 'whsec_mine' }, { name: 'x'.repeat(201) }]) {
      const res = await createIntegration(projectId, payload);
      expect([payload, res.statusCode, res.json().type]).toEqual([payload, 422, 'https://alder.dev/problems/validation']);
    }
    for (const payload of [{ overlap_seconds: -1 }, { overlap_seconds: 604_801 }, { overlap_seconds: '60' }, { overlap_seconds: 1.5 }, { overlap: 60 }]) {
      expect([payload, (await rotate(integration.id, payload)).statusCode]).toEqual([payload, 422]);
    }
    expect((await listIntegrations(projectId)).json().data).toHaveLength(1);
    expect((await integrationRow(integration.id)).secret).toBe(integration.secret);
  });

  it('rotates: a new secret, the old one kept for the overlap (a day unless asked), at most two at a time', async () => {
    const projectId = await insertProject(h.db.pool);
    const integration = await newIntegration(projectId);
    const first = await rotate(integration.id);
    expect(first.statusCode).toBe(200);
    expect(first.json()).toMatchObject({
      id: integration.id,
      secret: expect.stringMatching(/^whsec_/),
      secret_rotated_at: BASE.toISOString(),
      previous_secret_expires_at: at(86_400).toISOString(),
    });
    expect(first.json().secret).not.toBe(integration.secret);
    let row = await integrationRow(integration.id);
    expect([row.secret, row.previous_secret]).toEqual([first.json().secret, integration.secret]);

    clock = at(60);
    const second = await rotate(integration.id, { overlap_seconds: 600 });
    expect(second.json().previous_secret_expires_at).toBe(at(660).toISOString());
    row = await integrationRow(integration.id);
    // The first secret is no longer among them.
    expect([row.secret, row.previous_secret]).toEqual([second.json().secret, first.json().secret]);

    const third = await rotate(integration.id, { overlap_seconds: 0 });
    expect(third.json().previous_secret_expires_at).toBeNull();
    row = await integrationRow(integration.id);
    expect([row.secret, row.previous_secret]).toEqual([third.json().secret, null]);

    const events = await auditOf(integration.id);
    expect(events.map((e) => [e.kind, e.after])).toEqual([
      ['integration.created', { name: 'crm' }],
      ['integration.secret_rotated', { overlap_seconds: 86_400, previous_secret_expires_at: at(86_400).toISOString() }],
      ['integration.secret_rotated', { overlap_seconds: 600, previous_secret_expires_at: at(660).toISOString() }],
      ['integration.secret_rotated', { overlap_seconds: 0, previous_secret_expires_at: null }],
    ]);
    expect(JSON.stringify(events)).not.toMatch(/whsec_/);
  });

  it('deletes: its pushes then answer as an unknown integration\'s, and what it pushed stays', async () => {
    const projectId = await insertProject(h.db.pool);
    const integration = await newIntegration(projectId);
    expect((await push(integration.id, batch('kept'), { secrets: [integration.secret] })).statusCode).toBe(200);
    const res = await remove(integration.id);
    expect(res.statusCode).toBe(204);
    expect((await listIntegrations(projectId)).json().data).toEqual([]);
    expect((await remove(integration.id)).statusCode).toBe(404);

    const refused = await push(integration.id, batch('late'), { secrets: [integration.secret] });
    const unknown = await push(randomUUID(), batch('late'), { secrets: [integration.secret] });
    expect(refused.statusCode).toBe(401);
    expect(problem(refused)).toEqual(problem(unknown));
    const { rows } = await h.db.pool.query('SELECT external_id FROM items WHERE project_id = $1', [projectId]);
    expect(rows).toEqual([{ external_id: 'kept' }]);
    // Its received ids went with it.
    expect((await h.db.pool.query('SELECT 1 FROM received_webhooks WHERE integration_id = $1', [integration.id])).rowCount).toBe(0);
    expect((await auditOf(integration.id)).map((e) => e.kind)).toEqual(['integration.created', 'integration.deleted']);
  });
});

describe('POST /v1/hooks/{integration_id}/items', () => {
  it('ingests a batch signed with the current secret, as POST .../items does', async () => {
    const projectId = await insertProject(h.db.pool);
    const integration = await newIntegration(projectId);
    const res = await push(
      integration.id,
      { items: [{ external_id: 'a', text: 'great', label: 'pos' }, { external_id: 'b', text: 'dull' }, { external_id: 'c', text: 'awful', split: 'test', label: 'neg' }] },
      { secrets: [integration.secret], id: 'msg_first' },
    );
    expect(res.statusCode).toBe(200);
    const batchId = res.json().batch_id;
    expect(res.json()).toEqual({ batch_id: expect.any(String), status: 'completed', received: 3, inserted: 3, duplicates: 0, updated: 0, skipped_changes: 0, duplicate_texts: 0, rejected: 0, labels_imported: 1, errors: [], duplicate: false });
    // The push is a batch of the project like any other.
    const stored = await h.db.pool.query('SELECT source, status, accepted, created_by FROM ingest_batches WHERE id = $1', [batchId]);
    expect(stored.rows).toEqual([{ source: 'webhook', status: 'completed', accepted: 3, created_by: null }]);

    const items = await h.db.pool.query('SELECT external_id, split, gold_label, status FROM items WHERE project_id = $1 ORDER BY id', [projectId]);
    expect(items.rows.map((r) => [r.external_id, r.split, r.gold_label, r.status])).toEqual([
      ['a', 'pool', 'pos', 'labeled'],
      ['b', 'pool', null, 'unlabeled'],
      ['c', 'test', 'neg', 'unlabeled'],
    ]);
    // An import by no key and no user: the integration is named in the batch's audit event.
    const imported = await h.db.pool.query('SELECT label, source, api_key_id, user_id FROM annotations WHERE project_id = $1', [projectId]);
    expect(imported.rows).toEqual([{ label: 'pos', source: 'import', api_key_id: null, user_id: null }]);
    expect((await outboxJobs(h.db.pool)).filter((j) => j.payload.projectId === projectId)).toEqual([
      { queue: 'sampling', job_name: 'rank-pool', payload: { projectId, reason: 'items-ingested' } },
    ]);
    const events = await h.db.pool.query(`SELECT actor_user_id, actor_key_id, subject_type, after FROM audit_events WHERE project_id = $1 AND kind = 'items.ingested'`, [projectId]);
    expect(events.rows).toEqual([
      {
        actor_user_id: null,
        actor_key_id: null,
        subject_type: 'batch',
        after: expect.objectContaining({ received: 3, inserted: 3, via: { integration_id: integration.id, webhook_id: 'msg_first' } }),
      },
    ]);
    const received = await h.db.pool.query('SELECT webhook_id, result FROM received_webhooks WHERE integration_id = $1', [integration.id]);
    expect(received.rows).toEqual([{ webhook_id: 'msg_first', result: expect.objectContaining({ batch_id: batchId, received: 3, inserted: 3, duplicates: 0, labels_imported: 1 }) }]);
  });

  it('verifies the bytes as sent, not a re-serialisation of the parsed body', async () => {
    const projectId = await insertProject(h.db.pool);
    const integration = await newIntegration(projectId);
    // Spacing, key order and escapes that JSON.stringify would not write back.
    const sent = '{ "items" : [\n  {"text": "caf\\u00e9 \\"au lait\\"", "external_id": "x"} ]}\n';
    const reserialised = JSON.stringify(JSON.parse(sent));
    expect(reserialised).not.toBe(sent);
    const wrong = await push(integration.id, sent, { secrets: [integration.secret], signedBody: reserialised });
    expect(wrong.statusCode).toBe(401);
    const right = await push(integration.id, sent, { secrets: [integration.secret] });
    expect(right.statusCode).toBe(200);
    const { rows } = await h.db.pool.query('SELECT text FROM items WHERE project_id = $1', [projectId]);
    expect(rows).toEqual([{ text: 'café "au lait"' }]);
  });

  it('answers a replayed webhook-id with its first counts and changes nothing; another body under it is 409', async () => {
    const projectId = await insertProject(h.db.pool);
    const integration = await newIntegration(projectId);
    const body = batch('p', 'q');
    expect((await push(integration.id, body, { secrets: [integration.secret], id: 'msg_once' })).json()).toMatchObject({ inserted: 2, duplicate: false });
    const before = await counts(h.db.pool);
    const audited = (await h.db.pool.query('SELECT count(*)::int AS n FROM audit_events')).rows[0].n;

    // A sender's retry: the same id and body, signed anew a minute later.
    clock = at(60);
    const retry = await push(integration.id, body, { secrets: [integration.secret], id: 'msg_once' });
    expect(retry.statusCode).toBe(200);
    expect(retry.json()).toMatchObject({ received: 2, inserted: 2, duplicates: 0, labels_imported: 0, duplicate: true });
    const reused = await push(integration.id, batch('p', 'q', 'r'), { secrets: [integration.secret], id: 'msg_once' });
    expect(reused.statusCode).toBe(409);
    expect(reused.json()).toMatchObject({ type: 'https://alder.dev/problems/webhook-id-reused', detail: expect.stringContaining('msg_once') });
    expect(await counts(h.db.pool)).toEqual(before);
    expect((await h.db.pool.query('SELECT count(*)::int AS n FROM audit_events')).rows[0].n).toBe(audited);

    // Two deliveries of one message at once: one ingests, the other waits for it and is the replay.
    const both = await Promise.all([1, 2].map(() => push(integration.id, batch('s'), { secrets: [integration.secret], id: 'msg_twice' })));
    expect(both.map((r) => r.statusCode)).toEqual([200, 200]);
    expect(both.map((r) => r.json().duplicate).sort()).toEqual([false, true]);
    expect(both.map((r) => r.json().inserted)).toEqual([1, 1]);
  });

  it('accepts the previous secret during the overlap, not after it, and not once rotated again', async () => {
    const projectId = await insertProject(h.db.pool);
    const integration = await newIntegration(projectId);
    const old = integration.secret;
    const current = (await rotate(integration.id)).json().secret as string;

    clock = at(3_600);
    expect((await push(integration.id, batch('o1'), { secrets: [old] })).statusCode).toBe(200);
    expect((await push(integration.id, batch('n1'), { secrets: [current] })).statusCode).toBe(200);
    // A sender mid-rotation signs with both.
    expect((await push(integration.id, batch('b1'), { secrets: [old, current] })).statusCode).toBe(200);

    clock = at(86_400 + 1);
    const expired = await push(integration.id, batch('o2'), { secrets: [old] });
    expect(problem(expired)).toMatchObject({ status: 401, type: 'https://alder.dev/problems/invalid-signature' });
    expect((await push(integration.id, batch('n2'), { secrets: [current] })).statusCode).toBe(200);

    // Rotated twice: the secret two back stops at once, the one before stays for its overlap.
    const newest = (await rotate(integration.id)).json().secret as string;
    expect((await push(integration.id, batch('o3'), { secrets: [old] })).statusCode).toBe(401);
    expect((await push(integration.id, batch('n3'), { secrets: [current] })).statusCode).toBe(200);
    expect((await push(integration.id, batch('w3'), { secrets: [newest] })).statusCode).toBe(200);
    const { rows } = await h.db.pool.query('SELECT external_id FROM items WHERE project_id = $1 ORDER BY id', [projectId]);
    expect(rows.map((r) => r.external_id)).toEqual(['o1', 'n1', 'b1', 'n2', 'n3', 'w3']);
  });

  it('refuses a tampered body, a wrong secret and a timestamp more than 5 minutes off, alike for an unknown integration', async () => {
    const projectId = await insertProject(h.db.pool);
    const integration = await newIntegration(projectId);
    const before = await counts(h.db.pool);
    const mine = { secrets: [integration.secret] };
    const stranger = { secrets: [generateWebhookSecret()] };

    const tampered = await push(integration.id, batch('evil'), { ...mine, signedBody: JSON.stringify(batch('good')) });
    expect(problem(tampered)).toEqual({
      status: 401,
      type: 'https://alder.dev/problems/invalid-signature',
      title: 'Invalid webhook signature',
      detail: expect.stringMatching(/No signature .* matches/),
    });
    expect(problem(await push(integration.id, batch('x'), stranger))).toEqual(problem(tampered));
    const tooOld = await push(integration.id, batch('x'), { ...mine, signedAt: at(-301) });
    expect(problem(tooOld)).toMatchObject({ status: 401, detail: expect.stringMatching(/in the past/) });
    const tooNew = await push(integration.id, batch('x'), { ...mine, signedAt: at(301) });
    expect(problem(tooNew)).toMatchObject({ status: 401, detail: expect.stringMatching(/in the future/) });
    const malformed = await push(integration.id, batch('x'), { ...mine, headers: { 'webhook-timestamp': 'soon' } });
    expect(problem(malformed)).toMatchObject({ status: 401, detail: expect.stringMatching(/Unix seconds/) });
    expect(await counts(h.db.pool)).toEqual(before);

    // An unknown integration answers every one of them word for word as a known one does.
    const unknown = randomUUID();
    expect(problem(await push(unknown, batch('x'), mine))).toEqual(problem(tampered));
    expect(problem(await push(unknown, batch('x'), { ...mine, signedAt: at(-301) }))).toEqual(problem(tooOld));
    expect(problem(await push(unknown, batch('x'), { ...mine, signedAt: at(301) }))).toEqual(problem(tooNew));
    expect(problem(await push(unknown, batch('x'), { ...mine, headers: { 'webhook-timestamp': 'soon' } }))).toEqual(problem(malformed));

    // At the edges of the window: accepted.
    expect((await push(integration.id, batch('early'), { ...mine, signedAt: at(-300) })).statusCode).toBe(200);
    expect((await push(integration.id, batch('late'), { ...mine, signedAt: at(300) })).statusCode).toBe(200);
  });

  it('refuses an unsigned request before reading its body; an API key opens nothing', async () => {
    const projectId = await insertProject(h.db.pool);
    const integration = await newIntegration(projectId);
    const url = `/v1/hooks/${integration.id}/items`;
    const before = await counts(h.db.pool);
    const json = { 'content-type': 'application/json' };
    const unsigned = await h.http({ method: 'POST', url, headers: json, payload: '{"items": [' });
    expect(problem(unsigned)).toMatchObject({ status: 401, type: 'https://alder.dev/problems/invalid-signature' });
    expect(unsigned.json().detail).toMatch(/missing: webhook-id, webhook-timestamp, webhook-signature/);
    const keyed = await h.http({ method: 'POST', url, headers: { ...json, ...auth() }, payload: batch('k') });
    expect(keyed.statusCode).toBe(401);
    const partly = await h.http({ method: 'POST', url, headers: { ...json, 'webhook-id': 'msg_x', 'webhook-timestamp': String(BASE.getTime() / 1000) }, payload: batch('k') });
    expect(partly.json().detail).toMatch(/missing: webhook-signature/);
    // A full stop in the id could make "id.timestamp.body" ambiguous: refused whatever it signs.
    const dotted = await push(integration.id, batch('k'), { secrets: [integration.secret], headers: { 'webhook-id': 'msg.1' } });
    expect(problem(dotted)).toMatchObject({ status: 401, detail: expect.stringMatching(/must not contain "\."/) });
    expect(await counts(h.db.pool)).toEqual(before);
  });

  it('refuses a bad batch (422, 413) after the signature, writes nothing, and leaves the webhook id free', async () => {
    const projectId = await insertProject(h.db.pool);
    const integration = await newIntegration(projectId);
    const mine = { secrets: [integration.secret] };
    const before = await counts(h.db.pool);
    const unknownLabel = await push(integration.id, { items: [{ external_id: 'a', text: 'x', label: 'maybe' }] }, { ...mine, id: 'msg_fixed' });
    expect(unknownLabel.statusCode).toBe(422);
    expect(unknownLabel.json().errors).toEqual([{ path: 'body/items/0/label', message: '"maybe" is not one of the project\'s labels' }]);
    const emptyText = await push(integration.id, { items: [{ external_id: 'a', text: '' }] }, mine);
    expect(emptyText.statusCode).toBe(422);
    expect(new Set(emptyText.json().errors.map((e: { path: string }) => e.path))).toEqual(new Set(['body/items/0/text']));
    const many = await push(integration.id, batch(...Array.from({ length: 21 }, (_, i) => `m${i}`)), mine);
    expect(problem(many)).toMatchObject({ status: 413, detail: expect.stringMatching(/At most 20 items/) });
    expect(await counts(h.db.pool)).toEqual(before);

    // The refused delivery recorded no id: its corrected retry is ingested.
    const fixed = await push(integration.id, { items: [{ external_id: 'a', text: 'x', label: 'pos' }] }, { ...mine, id: 'msg_fixed' });
    expect(fixed.json()).toMatchObject({ inserted: 1, duplicate: false });
    // A malformed integration id names nothing.
    expect((await push('not-a-uuid', batch('z'), mine)).statusCode).toBe(404);
  });
});

describe('received webhook ids', () => {
  it('are deleted by the retention sweep once past the horizon', async () => {
    const projectId = await insertProject(h.db.pool);
    const integration = await newIntegration(projectId);
    for (const id of ['msg_old', 'msg_new']) expect((await push(integration.id, batch(id), { secrets: [integration.secret], id })).statusCode).toBe(200);
    await h.db.pool.query(`UPDATE received_webhooks SET received_at = received_at - interval '48 hours' WHERE webhook_id = 'msg_old'`);
    const sweeper = startRetention({ pool: h.db.pool, log: createLogger({ level: 'silent' }), horizonHours: 24, intervalMs: 3_600_000, targets: [receivedWebhooksRetention] });
    try {
      expect(await sweeper.sweepNow()).toEqual({ swept: true, deleted: { received_webhooks: 1 } });
    } finally {
      await sweeper.close();
    }
    const { rows } = await h.db.pool.query('SELECT webhook_id FROM received_webhooks WHERE integration_id = $1', [integration.id]);
    expect(rows).toEqual([{ webhook_id: 'msg_new' }]);
  });
});
