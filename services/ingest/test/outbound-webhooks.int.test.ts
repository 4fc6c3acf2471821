import { createMember } from '@alder/http';
import { createLogger } from '@alder/logger';
import { startRetention } from '@alder/queues';
import { webhookDeliveriesRetention, webhookEventsRetention } from '../src/index';
import { withTransaction } from '@alder/db';
import { emitEvent, eventMask, projectEventMask, type EventData } from '@alder/queues';
import { verifyWebhook } from '@alder/webhooks';
import { insertProject } from './harness';
import { startOutboundHarness, startReceiver, TEST_WEBHOOK_CONFIG, waitFor, type OutboundHarness, type Receiver } from './outbound-harness';

// Outbound webhooks against real local receivers (node:http servers in this process), with the
// retry schedule shortened to tens of milliseconds and a 2 s attempt timeout. Waits poll for
// the state they expect within a generous budget: nothing depends on how fast the machine is.

let h: OutboundHarness;
let receiver: Receiver;
beforeAll(async () => {
  h = await startOutboundHarness();
});
afterAll(async () => {
  await h?.close();
});
beforeEach(async () => {
  receiver = await startReceiver();
});
afterEach(async () => {
  await receiver.close();
});

const auth = (key: string = h.adminKey) => ({ authorization: `Bearer ${key}` });
const api = (method: string, url: string, payload?: unknown, key?: string) => h.http({ method, url, headers: auth(key), payload });

async function subscribe(projectId: string, payload: Record<string, unknown>): Promise<{ id: string; secret: string }> {
  const res = await api('POST', `/v1/projects/${projectId}/webhooks`, payload);
  if (res.statusCode !== 201) throw new Error(`subscribe: ${res.statusCode} ${res.body}`);
  return res.json();
}

const batchData = (n = 1): EventData<'batch.completed'> => ({ batch_id: '6f1c1c9e-8b1a-4d5e-9a53-000000000001', source: 'json', received: n, inserted: n, duplicates: 0, updated: 0, skipped_changes: 0, rejected: 0, labels_imported: 0 });

/** Emits an event as a writer does: in a transaction of its own change. */
const emit = (projectId: string, data = batchData()) => withTransaction(h.db.pool, (client) => emitEvent(client, projectId, 'batch.completed', data));

const deliveries = async (projectId: string, webhookId: string, status?: string) => {
  const res = await api('GET', `/v1/projects/${projectId}/webhooks/${webhookId}/deliveries${status ? `?status=${status}` : ''}`);
  expect(res.statusCode).toBe(200);
  return res.json().data as any[];
};
const webhook = async (projectId: string, id: string) => (await api('GET', `/v1/projects/${projectId}/webhooks/${id}`)).json();

describe('webhook subscriptions', () => {
  it('a manager subscribes and sees the secret once; the project mask follows its enabled subscriptions', async () => {
    const projectId = await insertProject(h.db.pool);
    const manager = await createMember(h.db.pool, projectId, 'manager');
    expect(await projectEventMask(h.db.pool, projectId)).toBe(0);
    const res = await api('POST', `/v1/projects/${projectId}/webhooks`, { url: receiver.url, events: ['item.labeled', 'model.trained'] }, manager.key);
    expect(res.statusCode).toBe(201);
    expect(res.json()).toMatchObject({ project_id: projectId, url: receiver.url, events: ['item.labeled', 'model.trained'], enabled: true, disabled_reason: null, consecutive_failures: 0, secret: expect.stringMatching(/^whsec_/) });
    expect(await projectEventMask(h.db.pool, projectId)).toBe(eventMask(['item.labeled', 'model.trained']));
    const all = await subscribe(projectId, { url: receiver.url });
    expect(await projectEventMask(h.db.pool, projectId)).toBe(-1);
    const list = (await api('GET', `/v1/projects/${projectId}/webhooks`)).json().data;
    expect(list).toHaveLength(2);
    expect(JSON.stringify(list)).not.toContain('whsec_');
    expect((await api('PATCH', `/v1/projects/${projectId}/webhooks/${all.id}`, { enabled: false })).json()).toMatchObject({ enabled: false, disabled_reason: expect.stringContaining('disabled by') });
    expect(await projectEventMask(h.db.pool, projectId)).toBe(eventMask(['item.labeled', 'model.trained']));
    expect((await api('DELETE', `/v1/projects/${projectId}/webhooks/${res.json().id}`)).statusCode).toBe(204);
    expect(await projectEventMask(h.db.pool, projectId)).toBe(0);
  });

  it('refuses bad input with a problem and writes nothing', async () => {
    const projectId = await insertProject(h.db.pool);
    const other = await insertProject(h.db.pool);
    const annotator = await createMember(h.db.pool, projectId, 'annotator');
    const refused = async (payload: unknown, status = 422, key?: string) => {
      const res = await api('POST', `/v1/projects/${projectId}/webhooks`, payload, key);
      expect([res.statusCode, res.headers['content-type']]).toEqual([status, expect.stringContaining('application/problem+json')]);
      return res.json();
    };
    await refused({ url: 'ftp://example.com/x' });
    await refused({ url: receiver.url, events: ['item.exploded'] });
    await refused({ url: receiver.url, events: [] });
    await refused({ url: receiver.url, secret: 'whsec_mine' });
    await refused({ url: receiver.url }, 403, annotator.key);
    // Private, loopback and link-local targets (only 127.0.0.1 is allowed here), as given or as a name resolves.
    for (const url of ['http://127.0.0.2/x', 'http://169.254.169.254/latest/meta-data', 'http://[::1]:8080/', 'http://10.0.0.8/', 'http://[::ffff:192.168.0.1]/', 'http://user:pw@127.0.0.1/']) {
      expect([url, (await refused({ url })).errors?.[0]?.path]).toEqual([url, 'body/url']);
    }
    expect((await refused({ url: 'http://no-such-host.invalid/' })).detail).toMatch(/does not resolve/);
    expect((await api('GET', `/v1/projects/${projectId}/webhooks`)).json().data).toEqual([]);
    expect(await projectEventMask(h.db.pool, projectId)).toBe(0);
    // Another project's subscription is not found through this one.
    const theirs = await subscribe(other, { url: receiver.url });
    for (const [method, suffix] of [['GET', ''], ['PATCH', ''], ['DELETE', ''], ['GET', '/deliveries'], ['POST', '/rotate-secret']] as const) {
      const res = await api(method, `/v1/projects/${projectId}/webhooks/${theirs.id}${suffix}`, method === 'PATCH' ? { enabled: false } : method === 'POST' ? {} : undefined);
      expect([method, suffix, res.statusCode]).toEqual([method, suffix, 404]);
    }
    const mine = await subscribe(projectId, { url: receiver.url });
    expect((await api('PATCH', `/v1/projects/${projectId}/webhooks/${mine.id}`, { url: 'http://10.1.1.1/' })).statusCode).toBe(422);
    expect((await api('PATCH', `/v1/projects/${projectId}/webhooks/${mine.id}`, {})).statusCode).toBe(422);
    expect((await webhook(projectId, mine.id)).url).toBe(receiver.url);
    expect((await api('POST', `/v1/projects/${projectId}/webhooks/${mine.id}/deliveries/999999/replay`)).statusCode).toBe(404);
  });
});

describe('delivery', () => {
  it('signs each delivery per Standard Webhooks; it verifies with the subscription secret, and filters pick the types', async () => {
    const projectId = await insertProject(h.db.pool);
    const all = await subscribe(projectId, { url: receiver.url });
    const labelsOnly = await subscribe(projectId, { url: receiver.url.replace('/hook', '/labels'), events: ['item.labeled'] });
    const eventId = await emit(projectId, batchData(3));
    await waitFor(async () => (await deliveries(projectId, all.id, 'delivered')).length === 1, 'the delivery');
    expect(receiver.received).toHaveLength(1);
    const [got] = receiver.received;
    expect(got!.url).toBe('/hook');
    const verified = verifyWebhook({ secrets: [all.secret], headers: got!.headers, rawBody: got!.body });
    expect(verified.id).toBe(eventId);
    expect(JSON.parse(got!.body)).toEqual({ type: 'batch.completed', timestamp: expect.any(String), data: { project_id: projectId, ...batchData(3) } });
    expect(() => verifyWebhook({ secrets: [labelsOnly.secret], headers: got!.headers, rawBody: got!.body })).toThrow();
    expect(await deliveries(projectId, labelsOnly.id)).toEqual([]);
    const [delivery] = await deliveries(projectId, all.id);
    expect(delivery).toMatchObject({ event_id: eventId, event_type: 'batch.completed', status: 'delivered', attempts: 1, last_status_code: 200, attempt_log: [{ attempt: 1, status_code: 200, error: null, response_excerpt: 'ok', url: receiver.url }] });
  });

  it('an ingested batch sends batch.completed with its counts, written in the batch\'s transaction', async () => {
    const projectId = await insertProject(h.db.pool);
    const sub = await subscribe(projectId, { url: receiver.url, events: ['batch.completed'] });
    const res = await api('POST', `/v1/projects/${projectId}/items`, { items: [{ external_id: 'a', text: 'one' }, { external_id: 'b', text: 'two' }] });
    expect(res.statusCode).toBe(200);
    // A refused batch (a duplicate id within it) lands nothing and sends nothing.
    expect((await api('POST', `/v1/projects/${projectId}/items`, { items: [{ external_id: 'c', text: 'x' }, { external_id: 'c', text: 'y' }] })).statusCode).toBe(422);
    await waitFor(async () => (await deliveries(projectId, sub.id, 'delivered')).length === 1, 'the batch event');
    await h.relay.flush();
    expect(receiver.received.map((r) => JSON.parse(r.body))).toEqual([
      { type: 'batch.completed', timestamp: expect.any(String), data: { project_id: projectId, batch_id: res.json().batch_id, source: 'json', received: 2, inserted: 2, duplicates: 0, updated: 0, skipped_changes: 0, duplicate_texts: 0, rejected: 0, labels_imported: 0 } },
    ]);
  });

  it('emits nothing for a change that rolls back, and only once for one that commits', async () => {
    const projectId = await insertProject(h.db.pool);
    const sub = await subscribe(projectId, { url: receiver.url });
    await expect(
      withTransaction(h.db.pool, async (client) => {
        await emitEvent(client, projectId, 'batch.completed', batchData(1));
        throw new Error('the change failed');
      }),
    ).rejects.toThrow('the change failed');
    await emit(projectId, batchData(2));
    await waitFor(async () => (await deliveries(projectId, sub.id, 'delivered')).length === 1, 'the committed event');
    // The relay has published everything committed; the rolled-back event was never in the outbox.
    await h.relay.flush();
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(receiver.received.map((r) => JSON.parse(r.body).data.received)).toEqual([2]);
  });

  it('retries a failing receiver on the schedule until it answers 2xx, logging every attempt', async () => {
    const projectId = await insertProject(h.db.pool);
    const sub = await subscribe(projectId, { url: receiver.url });
    receiver.respond = (_req, res) => {
      if (receiver.received.length < 3) res.writeHead(503).end('busy '.repeat(400));
      else res.end('{"ok":true}');
    };
    await emit(projectId);
    const [delivery] = await waitFor(async () => {
      const done = await deliveries(projectId, sub.id, 'delivered');
      return done.length ? done : undefined;
    }, 'the third attempt');
    expect(delivery.attempts).toBe(3);
    expect(delivery.attempt_log.map((a: any) => [a.status_code, a.error])).toEqual([[503, 'HTTP 503'], [503, 'HTTP 503'], [200, null]]);
    // The excerpt is capped at 1 KiB.
    expect(delivery.attempt_log[0].response_excerpt).toHaveLength(1024);
    // The same message every time: one webhook-id, each attempt signed anew.
    expect(new Set(receiver.received.map((r) => r.headers['webhook-id'])).size).toBe(1);
    for (const r of receiver.received) verifyWebhook({ secrets: [sub.secret], headers: r.headers, rawBody: r.body });
    expect((await webhook(projectId, sub.id)).consecutive_failures).toBe(0);
  });

  it('a 410 ends the delivery and disables the subscription, saying so', async () => {
    const projectId = await insertProject(h.db.pool);
    const sub = await subscribe(projectId, { url: receiver.url });
    receiver.respond = (_req, res) => res.writeHead(410).end('gone');
    await emit(projectId);
    await waitFor(async () => !(await webhook(projectId, sub.id)).enabled, 'the subscription disabled');
    expect(await webhook(projectId, sub.id)).toMatchObject({ enabled: false, disabled_reason: 'the receiver answered 410 Gone', disabled_at: expect.any(String) });
    expect(await deliveries(projectId, sub.id)).toMatchObject([{ status: 'dead', attempts: 1, last_status_code: 410 }]);
    expect(await projectEventMask(h.db.pool, projectId)).toBe(0);
    // Disabled: a later event is not even written for it.
    await emit(projectId);
    await h.relay.flush();
    expect(await deliveries(projectId, sub.id)).toHaveLength(1);
    expect(receiver.received).toHaveLength(1);
    const audit = await h.db.pool.query(`SELECT kind, after FROM audit_events WHERE subject_id = $1 AND kind = 'webhook.disabled'`, [sub.id]);
    expect(audit.rows).toEqual([{ kind: 'webhook.disabled', after: { reason: 'the receiver answered 410 Gone' } }]);
  });

  it('times out a receiver that hangs and retries it; the hung attempt holds no worker', async () => {
    const projectId = await insertProject(h.db.pool);
    const sub = await subscribe(projectId, { url: receiver.url });
    receiver.respond = (_req, res) => {
      // The first request never gets an answer; the next ones do.
      if (receiver.received.length > 1) res.end('late but fine');
    };
    await emit(projectId);
    const [delivery] = await waitFor(async () => {
      const done = await deliveries(projectId, sub.id, 'delivered');
      return done.length ? done : undefined;
    }, 'the retry after the timeout');
    const timeout = TEST_WEBHOOK_CONFIG.WEBHOOK_TIMEOUT_MS!;
    expect(delivery.attempt_log.map((a: any) => [a.status_code, a.error])).toEqual([[null, `timed out after ${timeout} ms`], [200, null]]);
    expect(delivery.attempt_log[0].duration_ms).toBeGreaterThanOrEqual(timeout - 10);
  });

  it('refuses a redirect to a private address (never connecting to it) and follows one to an allowed target', async () => {
    const projectId = await insertProject(h.db.pool);
    // A server on another loopback address, which the policy refuses: it must never be reached.
    const hidden = await startReceiver('127.0.0.2');
    try {
      const sub = await subscribe(projectId, { url: receiver.url });
      receiver.respond = (req, res) => {
        if (req.url === '/hook') res.writeHead(307, { location: hidden.url }).end();
        else res.end('moved here');
      };
      await emit(projectId);
      const [first] = await waitFor(async () => {
        const rows = await deliveries(projectId, sub.id);
        return rows[0]?.attempts >= 1 ? rows : undefined;
      }, 'the refused attempt');
      expect(first.attempt_log[0]).toMatchObject({ status_code: null, error: expect.stringMatching(/^target refused: 127\.0\.0\.2 is a loopback address/), url: hidden.url });
      // A redirect to the metadata service's link-local address, and one through a name, are refused alike.
      receiver.respond = (req, res) => res.writeHead(302, { location: req.url === '/hook' ? 'http://169.254.169.254/latest/meta-data' : '/' }).end();
      const [second] = await waitFor(async () => {
        const rows = await deliveries(projectId, sub.id);
        return rows[0]?.attempts >= 2 ? rows : undefined;
      }, 'the second refused attempt');
      expect(second.attempt_log[1].error).toMatch(/^target refused: 169\.254\.169\.254 is a linkLocal address/);
      expect(hidden.received).toEqual([]);
      // A redirect within the allowed address is followed, with the POST and its signature.
      receiver.respond = (req, res) => (req.url === '/hook' ? res.writeHead(308, { location: '/moved' }).end() : res.end('moved here'));
      const [done] = await waitFor(async () => {
        const rows = await deliveries(projectId, sub.id);
        return rows[0]?.status !== 'pending' ? rows : undefined;
      }, 'the end of the delivery');
      expect(done).toMatchObject({ status: 'delivered', attempts: 3 });
      expect(done.attempt_log[2]).toMatchObject({ status_code: 200, url: receiver.url.replace('/hook', '/moved') });
      const moved = receiver.received.filter((r) => r.url === '/moved');
      expect(moved).toHaveLength(1);
      verifyWebhook({ secrets: [sub.secret], headers: moved[0]!.headers, rawBody: moved[0]!.body });
    } finally {
      await hidden.close();
    }
  });

  it('a receiver down past the retry window leaves dead letters, disables the subscription, and a dead letter replays once enabled', async () => {
    const projectId = await insertProject(h.db.pool);
    const sub = await subscribe(projectId, { url: receiver.url });
    const port = receiver.port;
    await receiver.close(); // nothing listens: every attempt is refused
    await emit(projectId, batchData(1));
    await emit(projectId, batchData(2));
    await waitFor(async () => !(await webhook(projectId, sub.id)).enabled, 'the subscription disabled');
    const dead = await deliveries(projectId, sub.id, 'dead');
    expect(dead).toHaveLength(2);
    for (const d of dead) {
      expect(d.attempts).toBe(3);
      expect(d.attempt_log.map((a: any) => a.error)).toEqual([expect.stringContaining('ECONNREFUSED'), expect.stringContaining('ECONNREFUSED'), expect.stringContaining('ECONNREFUSED')]);
    }
    expect(await webhook(projectId, sub.id)).toMatchObject({ enabled: false, consecutive_failures: 2, disabled_reason: expect.stringMatching(/^2 deliveries in a row ended as dead letters \(last: .*ECONNREFUSED/) });
    // Replay: refused while disabled, accepted once enabled; the receiver is back on its port.
    const replay = (id: number) => api('POST', `/v1/projects/${projectId}/webhooks/${sub.id}/deliveries/${id}/replay`);
    const refused = await replay(dead[0].id);
    expect([refused.statusCode, refused.json().type]).toEqual([409, 'https://alder.dev/problems/webhook-disabled']);
    receiver = await startReceiverOn(port);
    expect((await api('PATCH', `/v1/projects/${projectId}/webhooks/${sub.id}`, { enabled: true })).json()).toMatchObject({ enabled: true, disabled_reason: null, consecutive_failures: 0 });
    const accepted = await replay(dead[0].id);
    expect(accepted.statusCode).toBe(202);
    expect(accepted.json()).toMatchObject({ id: dead[0].id, status: 'pending' });
    const again = await replay(dead[0].id);
    if (again.statusCode !== 202) expect([again.statusCode, again.json().type]).toEqual([409, 'https://alder.dev/problems/delivery-pending']);
    await waitFor(async () => (await deliveries(projectId, sub.id, 'delivered')).length === 1, 'the replayed delivery');
    const [replayed] = await deliveries(projectId, sub.id, 'delivered');
    expect(replayed.attempts).toBe(4);
    expect(replayed.attempt_log.at(-1)).toMatchObject({ attempt: 4, status_code: 200 });
    expect(receiver.received).toHaveLength(1);
    expect(receiver.received[0]!.headers['webhook-id']).toBe(replayed.event_id);
    expect(await deliveries(projectId, sub.id, 'dead')).toHaveLength(1);
  });

  it('signs with both secrets during a rotation overlap, and with the new one alone without', async () => {
    const projectId = await insertProject(h.db.pool);
    const sub = await subscribe(projectId, { url: receiver.url });
    const rotated = (await api('POST', `/v1/projects/${projectId}/webhooks/${sub.id}/rotate-secret`, { overlap_seconds: 3600 })).json();
    expect(rotated.secret).not.toBe(sub.secret);
    await emit(projectId);
    await waitFor(async () => receiver.received.length === 1, 'the delivery');
    const [got] = receiver.received;
    expect(String(got!.headers['webhook-signature']).split(' ')).toHaveLength(2);
    for (const secret of [sub.secret, rotated.secret]) verifyWebhook({ secrets: [secret], headers: got!.headers, rawBody: got!.body });
    const cut = (await api('POST', `/v1/projects/${projectId}/webhooks/${sub.id}/rotate-secret`, { overlap_seconds: 0 })).json();
    await emit(projectId);
    await waitFor(async () => receiver.received.length === 2, 'the second delivery');
    const second = receiver.received[1]!;
    expect(String(second.headers['webhook-signature']).split(' ')).toHaveLength(1);
    verifyWebhook({ secrets: [cut.secret], headers: second.headers, rawBody: second.body });
  });
});

/** The receiver back on the port it had (the subscription's URL names it). */
const startReceiverOn = (port: number) => startReceiver('127.0.0.1', port);

describe('outbound retention', () => {
  it('sweeps ended deliveries (with their attempts) and spent events past the horizon; pending and recent ones stay', async () => {
    const projectId = await insertProject(h.db.pool);
    const sub = await subscribe(projectId, { url: receiver.url });
    const old = await emit(projectId, batchData(1));
    const recent = await emit(projectId, batchData(2));
    await waitFor(async () => (await deliveries(projectId, sub.id, 'delivered')).length === 2, 'both deliveries');
    // A third, still pending: its next attempt far off.
    const pending = await emit(projectId, batchData(3));
    await waitFor(async () => (await h.db.pool.query('SELECT 1 FROM webhook_deliveries WHERE event_id = $1', [pending])).rowCount === 1, 'the pending delivery');
    await h.db.pool.query(`UPDATE webhook_deliveries SET status = 'pending', ended_at = NULL, next_attempt_at = now() + interval '1 day' WHERE event_id = $1`, [pending]);
    await h.db.pool.query(`UPDATE webhook_deliveries SET ended_at = now() - interval '48 hours' WHERE event_id = $1`, [old]);
    await h.db.pool.query(`UPDATE webhook_events SET created_at = now() - interval '48 hours' WHERE id = ANY($1::uuid[])`, [[old, pending]]);
    const sweeper = startRetention({ pool: h.db.pool, log: createLogger({ level: 'silent' }), horizonHours: 24, intervalMs: 3_600_000, targets: [webhookDeliveriesRetention, webhookEventsRetention] });
    try {
      expect(await sweeper.sweepNow()).toEqual({ swept: true, deleted: { webhook_deliveries: 1, webhook_events: 1 } });
    } finally {
      await sweeper.close();
    }
    const left = await h.db.pool.query('SELECT d.event_id, (SELECT count(*)::int FROM webhook_attempts a WHERE a.delivery_id = d.id) AS attempts FROM webhook_deliveries d JOIN webhook_subscriptions s ON s.id = d.subscription_id WHERE s.project_id = $1 ORDER BY d.id', [projectId]);
    expect(left.rows.map((r) => r.event_id)).toEqual([recent, pending]);
    const events = await h.db.pool.query('SELECT id FROM webhook_events WHERE project_id = $1 ORDER BY created_at', [projectId]);
    expect(events.rows.map((r) => r.id).sort()).toEqual([recent, pending].sort());
    const orphanAttempts = await h.db.pool.query('SELECT count(*)::int AS n FROM webhook_attempts a WHERE NOT EXISTS (SELECT 1 FROM webhook_deliveries d WHERE d.id = a.delivery_id)');
    expect(orphanAttempts.rows[0].n).toBe(0);
  });
});
