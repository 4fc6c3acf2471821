import { createHash, randomUUID } from 'node:crypto';
import { ADVISORY_LOCKS, createPool, withTransaction, type Pool } from '@alder/db';
import { useTestServers } from '@alder/testkit';
import {
  appendAuditEvents,
  auditActor,
  itemHistory,
  pageAuditEvents,
  sealAuditEvents,
  startAuditSealer,
  SYSTEM_ACTOR,
  verifyAuditChain,
  type AuditChainVerdict,
  type AuditEventInput,
} from '../src/index';

const servers = useTestServers();
const USER = '11111111-1111-4111-8111-111111111111';
const KEY = '22222222-2222-4222-8222-222222222222';
const ZERO = Buffer.alloc(32);

const pool = (): Pool => servers.db.pool;

function event(projectId: string, n: number, extra: Partial<AuditEventInput> = {}): AuditEventInput {
  return {
    projectId,
    kind: 'annotation.created',
    actor: auditActor({ userId: USER, keyId: KEY }),
    subject: { type: 'annotation', id: String(n) },
    item: { id: 1000 + n, externalId: `item-${n % 3}` },
    before: null,
    after: { label: n % 2 ? 'pos' : 'neg', n, nested: { ü: 'é', list: [1, 2.5, null] } },
    ...extra,
  };
}

async function append(events: AuditEventInput[]): Promise<{ id: number }[]> {
  return withTransaction(pool(), (client) => appendAuditEvents(client, events));
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Verifies until nothing of the project is pending. The sealer's horizon is the oldest running
 * transaction of the whole Postgres cluster, so a transaction of some other database on the same
 * server (another test run) can hold it back for a moment: wait for it rather than fail.
 */
async function settled(projectId: string): Promise<AuditChainVerdict> {
  const deadline = Date.now() + 45_000;
  for (;;) {
    const verdict = await verifyAuditChain(pool(), projectId);
    if (verdict.pending === 0 || Date.now() > deadline) return verdict;
    await sleep(50);
  }
}

/** A project with `n` events (one transaction), sealed; returns their ids in chain order. */
async function chainOf(n: number): Promise<{ projectId: string; ids: number[] }> {
  const projectId = randomUUID();
  const ids = (await append(Array.from({ length: n }, (_, i) => event(projectId, i + 1)))).map((r) => r.id);
  expect(await settled(projectId)).toEqual({ ok: true, events: n, pending: 0, first_bad: null });
  return { projectId, ids };
}

async function links(projectId: string): Promise<{ seq: number; event_id: number; prev_hash: Buffer; hash: Buffer }[]> {
  const { rows } = await pool().query('SELECT seq, event_id, prev_hash, hash FROM audit_chain WHERE project_id = $1 ORDER BY seq', [projectId]);
  return rows;
}

/**
 * Runs SQL with the triggers off (session_replication_role = replica) on a connection that is
 * closed afterwards, so that the setting never goes back to the pool.
 */
async function behindTheBack(sql: string, params: unknown[] = []): Promise<void> {
  const client = await pool().connect();
  try {
    await client.query('SET session_replication_role = replica');
    await client.query(sql, params);
  } finally {
    client.release(true);
  }
}

/** A link's hash recomputed from its (possibly edited) event, as the sealer would. */
const REHASH = `audit_event_hash(c.prev_hash, audit_event_content(e.project_id, c.seq, e.kind, e.actor_user_id, e.actor_key_id,
  e.subject_type, e.subject_id, e.item_id, e.item_external_id, e.before, e.after, e.created_at))`;

describe('appendAuditEvents and sealAuditEvents', () => {
  it('appends only, the sealer links in order, verify finds it ok', async () => {
    const projectId = randomUUID();
    const first = await append([event(projectId, 1), event(projectId, 2, { actor: SYSTEM_ACTOR, item: null, before: { a: 1 }, after: undefined })]);
    expect(first[1]!.id).toBeGreaterThan(first[0]!.id);
    // Appending writes the event and nothing else.
    expect(await links(projectId)).toEqual([]);
    const [row] = (await pool().query('SELECT * FROM audit_events WHERE id = $1', [first[1]!.id])).rows;
    expect(row).toMatchObject({ project_id: projectId, actor_user_id: null, actor_key_id: null, item_id: null, item_external_id: null, before: { a: 1 }, after: null });
    const second = await append([event(projectId, 3)]);

    expect(await settled(projectId)).toEqual({ ok: true, events: 3, pending: 0, first_bad: null });
    const chain = await links(projectId);
    expect(chain.map((l) => [l.seq, l.event_id])).toEqual([
      [1, first[0]!.id],
      [2, first[1]!.id],
      [3, second[0]!.id],
    ]);
    expect(chain[0]!.prev_hash).toEqual(ZERO);
    expect(chain[1]!.prev_hash).toEqual(chain[0]!.hash);
    expect(chain[2]!.prev_hash).toEqual(chain[1]!.hash);
    const [head] = (await pool().query('SELECT seq, hash FROM audit_heads WHERE project_id = $1', [projectId])).rows;
    expect(head).toEqual({ seq: 3, hash: chain[2]!.hash });

    // hash = sha256(prev_hash || the content's canonical jsonb text, seq included).
    const [content] = (
      await pool().query(
        `SELECT audit_event_content(e.project_id, c.seq, e.kind, e.actor_user_id, e.actor_key_id, e.subject_type, e.subject_id,
           e.item_id, e.item_external_id, e.before, e.after, e.created_at)::text AS text
         FROM audit_chain c JOIN audit_events e ON e.id = c.event_id WHERE c.event_id = $1`,
        [first[1]!.id],
      )
    ).rows;
    expect(JSON.parse(content.text)).toMatchObject({ project_id: projectId, seq: 2, kind: 'annotation.created', before: { a: 1 }, after: null });
    expect(createHash('sha256').update(chain[0]!.hash).update(content.text, 'utf8').digest()).toEqual(chain[1]!.hash);

    // The horizon moved; a second seal has nothing to do.
    const [{ horizon }] = (await pool().query('SELECT horizon::text::bigint AS horizon FROM audit_sealer')).rows;
    const [{ txid }] = (await pool().query('SELECT max(txid::text::bigint) AS txid FROM audit_events WHERE project_id = $1', [projectId])).rows;
    expect(Number(horizon)).toBeGreaterThan(Number(txid));
    expect(await settled(projectId)).toEqual({ ok: true, events: 3, pending: 0, first_bad: null });
    expect(await links(projectId)).toEqual(chain);
  });

  it('returns ids in input order for events of several projects, each project its own chain', async () => {
    const a = randomUUID();
    const b = randomUUID();
    const result = await append([event(b, 1), event(a, 1), event(b, 2), event(a, 2), event(b, 3)]);
    const { rows } = await pool().query('SELECT id, project_id FROM audit_events WHERE id = ANY ($1)', [result.map((r) => r.id)]);
    const byId = new Map(rows.map((r) => [r.id, r.project_id]));
    expect(result.map((r) => byId.get(r.id))).toEqual([b, a, b, a, b]);
    expect(await settled(a)).toEqual({ ok: true, events: 2, pending: 0, first_bad: null });
    expect(await settled(b)).toEqual({ ok: true, events: 3, pending: 0, first_bad: null });
    expect((await links(a)).map((l) => [l.seq, l.event_id])).toEqual([
      [1, result[1]!.id],
      [2, result[3]!.id],
    ]);
    expect((await links(b)).map((l) => [l.seq, l.event_id])).toEqual([
      [1, result[0]!.id],
      [2, result[2]!.id],
      [3, result[4]!.id],
    ]);
    // Both chains start from zero: independent.
    expect((await links(a))[0]!.prev_hash).toEqual(ZERO);
    expect((await links(b))[0]!.prev_hash).toEqual(ZERO);
    // Breaking one leaves the other ok.
    await behindTheBack(`UPDATE audit_events SET after = '"forged"' WHERE id = $1`, [result[1]!.id]);
    expect((await verifyAuditChain(pool(), a)).first_bad).toEqual({ id: result[1]!.id, position: 1, reason: 'hash' });
    expect(await verifyAuditChain(pool(), b)).toEqual({ ok: true, events: 3, pending: 0, first_bad: null });
  });

  it('does not link the events of a transaction still open, nor any newer one, until it ends (the horizon)', async () => {
    const projectId = randomUUID();
    const t1 = await pool().connect();
    let t1Open = true;
    try {
      await t1.query('BEGIN');
      const [{ txid: t1Txid }] = (await t1.query('SELECT pg_current_xact_id()::text::bigint AS txid')).rows;
      // T2 begins after T1 (a newer txid), appends and commits while T1 runs.
      const [t2Event] = await append([event(projectId, 2)]);
      // T1 appends after T2: a larger event id, but the older transaction.
      const [t1Event] = await appendAuditEvents(t1, [event(projectId, 1)]);
      expect(t1Event!.id).toBeGreaterThan(t2Event!.id);

      // T1 holds the horizon: T2's committed event must wait (linking it now would put T1's
      // event, once committed, behind a horizon already passed: never linked).
      await sealAuditEvents(pool());
      expect(await verifyAuditChain(pool(), projectId)).toEqual({ ok: true, events: 0, pending: 1, first_bad: null });
      const [{ horizon }] = (await pool().query('SELECT horizon::text::bigint AS horizon FROM audit_sealer')).rows;
      expect(Number(horizon)).toBeLessThanOrEqual(Number(t1Txid));
      const page = await pageAuditEvents(pool(), projectId, { limit: 10 });
      expect(page.map((e) => [e.id, e.seq, e.hash])).toEqual([[t2Event!.id, null, null]]);

      await t1.query('COMMIT');
      t1Open = false;
      expect(await settled(projectId)).toEqual({ ok: true, events: 2, pending: 0, first_bad: null });
      // Chain order is txid order: T1's event first though its id is larger; each linked once.
      expect((await links(projectId)).map((l) => [l.seq, l.event_id])).toEqual([
        [1, t1Event!.id],
        [2, t2Event!.id],
      ]);
    } finally {
      if (t1Open) await t1.query('ROLLBACK').catch(() => undefined);
      t1.release();
    }
  });

  it('never links rolled-back events', async () => {
    const projectId = randomUUID();
    const [kept] = await append([event(projectId, 1)]);
    await expect(
      withTransaction(pool(), async (client) => {
        await appendAuditEvents(client, [event(projectId, 2), event(projectId, 3)]);
        throw new Error('rolled back');
      }),
    ).rejects.toThrow('rolled back');
    const [after] = await append([event(projectId, 4)]);
    expect(await settled(projectId)).toEqual({ ok: true, events: 2, pending: 0, first_bad: null });
    expect((await links(projectId)).map((l) => [l.seq, l.event_id])).toEqual([
      [1, kept!.id],
      [2, after!.id],
    ]);
    expect((await pageAuditEvents(pool(), projectId, { limit: 10 })).map((e) => e.subject_id)).toEqual(['1', '4']);
  });

  it('links 20 concurrent appending transactions to one project as seq 1..N without a gap', async () => {
    const projectId = randomUUID();
    const other = randomUUID();
    const results = await Promise.all(
      Array.from({ length: 20 }, (_, w) => append([event(projectId, w * 2), event(projectId, w * 2 + 1), ...(w % 4 === 0 ? [event(other, w)] : [])])),
    );
    expect(await settled(projectId)).toEqual({ ok: true, events: 40, pending: 0, first_bad: null });
    expect(await settled(other)).toEqual({ ok: true, events: 5, pending: 0, first_bad: null });
    const chain = await links(projectId);
    expect(chain.map((l) => l.seq)).toEqual(Array.from({ length: 40 }, (_, i) => i + 1));
    expect(new Set(chain.map((l) => l.event_id))).toEqual(new Set(results.flatMap((r) => r.slice(0, 2).map((x) => x.id))));
    // One transaction's events stay together, in id order (same txid, then id).
    const position = new Map(chain.map((l) => [l.event_id, l.seq]));
    for (const r of results) expect(position.get(r[1]!.id)).toBe(position.get(r[0]!.id)! + 1);
  });

  it('runs one sealer at a time: two concurrent seals link each event once', async () => {
    const projectId = randomUUID();
    for (let t = 0; t < 4; t++) await append(Array.from({ length: 500 }, (_, i) => event(projectId, t * 500 + i)));
    const count = async () => Number((await pool().query('SELECT count(*) AS n FROM audit_chain')).rows[0].n);
    const before = await count();
    const results = await Promise.all([sealAuditEvents(pool()), sealAuditEvents(pool())]);
    expect((await count()) - before).toBe(results[0]! + results[1]!);
    expect(await settled(projectId)).toEqual({ ok: true, events: 2000, pending: 0, first_bad: null });
    expect((await links(projectId)).map((l) => l.seq)).toEqual(Array.from({ length: 2000 }, (_, i) => i + 1));
  });

  it('returns 0 at once while another process holds the sealer lock', async () => {
    const projectId = randomUUID();
    await append([event(projectId, 1)]);
    const holder = await pool().connect();
    try {
      await holder.query('SELECT pg_advisory_lock($1)', [ADVISORY_LOCKS.auditSealer]);
      expect(await sealAuditEvents(pool())).toBe(0);
      expect(await verifyAuditChain(pool(), projectId)).toEqual({ ok: true, events: 0, pending: 1, first_bad: null });
    } finally {
      await holder.query('SELECT pg_advisory_unlock($1)', [ADVISORY_LOCKS.auditSealer]);
      holder.release();
    }
    expect(await settled(projectId)).toEqual({ ok: true, events: 1, pending: 0, first_bad: null });
  });

  it('refuses a pool or a client outside a transaction, and an empty call does nothing', async () => {
    const projectId = randomUUID();
    await expect(appendAuditEvents(pool(), [event(projectId, 1)])).rejects.toThrow(/inside a transaction/);
    const client = await pool().connect();
    try {
      await expect(appendAuditEvents(client, [event(projectId, 1)])).rejects.toThrow(/inside a transaction/);
      expect(await appendAuditEvents(client, [])).toEqual([]);
    } finally {
      client.release();
    }
    expect(await verifyAuditChain(pool(), projectId)).toEqual({ ok: true, events: 0, pending: 0, first_bad: null });
  });

  it('refuses a malformed kind (the table checks it)', async () => {
    await expect(append([event(randomUUID(), 1, { kind: 'Annotation Created' })])).rejects.toThrow(/audit_events_kind_check/);
  });
});

describe('startAuditSealer', () => {
  it('seals on its interval until closed, and hands errors to onError', async () => {
    const projectId = randomUUID();
    const errors: unknown[] = [];
    const sealer = startAuditSealer(pool(), { intervalMs: 20, onError: (e) => errors.push(e) });
    try {
      const [{ id }] = (await append([event(projectId, 1)])) as [{ id: number }];
      const deadline = Date.now() + 20_000;
      while ((await pageAuditEvents(pool(), projectId, { limit: 1 }))[0]!.seq === null && Date.now() < deadline) await sleep(20);
      expect((await pageAuditEvents(pool(), projectId, { limit: 1 }))[0]).toMatchObject({ id, seq: 1, hash: expect.stringMatching(/^[0-9a-f]{64}$/) });
    } finally {
      await sealer.close();
    }
    expect(errors).toEqual([]);

    const ended = createPool(servers.db.url, { max: 1 });
    await ended.end();
    const failing = startAuditSealer(ended, { intervalMs: 10, onError: (e) => errors.push(e) });
    const deadline = Date.now() + 5_000;
    while (errors.length === 0 && Date.now() < deadline) await sleep(10);
    await failing.close();
    expect(errors.length).toBeGreaterThan(0);
  });

  it('close() waits for a seal still running, not only for the last tick', async () => {
    const sealerLockHeld = async () =>
      Number(
        (
          await pool().query(
            `SELECT count(*) AS n FROM pg_locks WHERE locktype = 'advisory' AND granted AND database = (SELECT oid FROM pg_database WHERE datname = current_database())
               AND ((classid::bigint << 32) | objid::bigint) = $1`,
            [ADVISORY_LOCKS.auditSealer],
          )
        ).rows[0].n,
      ) > 0;
    // A seal that takes long: it gets the sealer lock, then waits on the horizon row held here.
    const holder = await pool().connect();
    let closing: Promise<void> | undefined;
    try {
      await holder.query('BEGIN');
      await holder.query('SELECT horizon FROM audit_sealer FOR UPDATE');
      const errors: unknown[] = [];
      const sealer = startAuditSealer(pool(), { intervalMs: 10, onError: (e) => errors.push(e) });
      const deadline = Date.now() + 10_000;
      while (!(await sealerLockHeld()) && Date.now() < deadline) await sleep(10);
      expect(await sealerLockHeld()).toBe(true);
      await sleep(100); // later ticks find the lock taken and return 0 at once
      let closed = false;
      closing = sealer.close().then(() => {
        closed = true;
      });
      await sleep(200);
      // The seal is still running (blocked here), so close() must not have resolved.
      expect({ closed, sealing: await sealerLockHeld() }).toEqual({ closed: false, sealing: true });
    } finally {
      await holder.query('COMMIT').catch(() => undefined);
      holder.release();
      await closing;
    }
  });
});

describe('append-only', () => {
  it('refuses UPDATE, DELETE and TRUNCATE of events and links, and moving a head back or deleting it', async () => {
    const { projectId, ids } = await chainOf(2);
    const db = pool();
    await expect(db.query(`UPDATE audit_events SET kind = 'annotation.deleted' WHERE id = $1`, [ids[0]])).rejects.toThrow(/audit_events is append-only/);
    await expect(db.query('DELETE FROM audit_events WHERE id = $1', [ids[1]])).rejects.toThrow(/audit_events is append-only/);
    await expect(db.query('TRUNCATE audit_events')).rejects.toThrow(/audit_events is append-only/);
    await expect(db.query('UPDATE audit_chain SET hash = prev_hash WHERE event_id = $1', [ids[0]])).rejects.toThrow(/audit_chain is append-only/);
    await expect(db.query('DELETE FROM audit_chain WHERE event_id = $1', [ids[1]])).rejects.toThrow(/audit_chain is append-only/);
    await expect(db.query('TRUNCATE audit_chain')).rejects.toThrow(/audit_chain is append-only/);
    await expect(db.query('UPDATE audit_heads SET seq = 1 WHERE project_id = $1', [projectId])).rejects.toThrow(/only move forward/);
    await expect(db.query('DELETE FROM audit_heads WHERE project_id = $1', [projectId])).rejects.toThrow(/only move forward/);
    await expect(db.query('TRUNCATE audit_heads')).rejects.toThrow(/only move forward/);
    expect(await verifyAuditChain(db, projectId)).toEqual({ ok: true, events: 2, pending: 0, first_bad: null });
  });
});

describe('verifyAuditChain', () => {
  const verify = (projectId: string) => verifyAuditChain(pool(), projectId);

  it('finds a project with no events ok', async () => {
    expect(await verify(randomUUID())).toEqual({ ok: true, events: 0, pending: 0, first_bad: null });
  });

  it('catches an edited after at that link', async () => {
    const { projectId, ids } = await chainOf(5);
    await behindTheBack(`UPDATE audit_events SET after = '{"label":"forged"}' WHERE id = $1`, [ids[2]]);
    expect(await verify(projectId)).toEqual({ ok: false, events: 5, pending: 0, first_bad: { id: ids[2], position: 3, reason: 'hash' } });
  });

  it('catches an edited kind at that link', async () => {
    const { projectId, ids } = await chainOf(5);
    await behindTheBack(`UPDATE audit_events SET kind = 'annotation.deleted' WHERE id = $1`, [ids[0]]);
    expect(await verify(projectId)).toEqual({ ok: false, events: 5, pending: 0, first_bad: { id: ids[0], position: 1, reason: 'hash' } });
  });

  it('catches a created_at moved by one microsecond (its text, microseconds included, is hashed)', async () => {
    const { projectId, ids } = await chainOf(3);
    await behindTheBack(`UPDATE audit_events SET created_at = created_at + interval '1 microsecond' WHERE id = $1`, [ids[1]]);
    expect(await verify(projectId)).toEqual({ ok: false, events: 3, pending: 0, first_bad: { id: ids[1], position: 2, reason: 'hash' } });
  });

  it('catches a deleted event at its link (missing_event, the id of the event that is gone)', async () => {
    const { projectId, ids } = await chainOf(5);
    await behindTheBack('DELETE FROM audit_events WHERE id = $1', [ids[2]]);
    expect(await verify(projectId)).toEqual({ ok: false, events: 5, pending: 0, first_bad: { id: ids[2], position: 3, reason: 'missing_event' } });
  });

  it('catches a deleted middle link at the next one (seq)', async () => {
    const { projectId, ids } = await chainOf(5);
    await behindTheBack('DELETE FROM audit_chain WHERE event_id = $1', [ids[2]]);
    expect(await verify(projectId)).toEqual({ ok: false, events: 4, pending: 0, first_bad: { id: ids[3], position: 3, reason: 'seq' } });
  });

  it('catches a deleted first link (seq)', async () => {
    const { projectId, ids } = await chainOf(3);
    await behindTheBack('DELETE FROM audit_chain WHERE event_id = $1', [ids[0]]);
    expect(await verify(projectId)).toEqual({ ok: false, events: 2, pending: 0, first_bad: { id: ids[1], position: 1, reason: 'seq' } });
  });

  it('catches two links whose events were swapped at the first of them (hash)', async () => {
    const { projectId, ids } = await chainOf(5);
    // event_id is UNIQUE (a constraint, not a trigger): swap through a free value.
    await behindTheBack(
      `UPDATE audit_chain SET event_id = -1 WHERE event_id = $1;
       UPDATE audit_chain SET event_id = $1 WHERE event_id = $2;
       UPDATE audit_chain SET event_id = $2 WHERE event_id = -1`.replace(/\$1/g, String(ids[1])).replace(/\$2/g, String(ids[2])),
    );
    expect((await links(projectId)).map((l) => l.event_id)).toEqual([ids[0], ids[2], ids[1], ids[3], ids[4]]);
    expect(await verify(projectId)).toEqual({ ok: false, events: 5, pending: 0, first_bad: { id: ids[2], position: 2, reason: 'hash' } });
  });

  it('catches an edited event whose link was rehashed at the next link (prev_hash)', async () => {
    const { projectId, ids } = await chainOf(5);
    await behindTheBack(`UPDATE audit_events SET after = '{"label":"forged"}' WHERE id = $1`, [ids[1]]);
    await behindTheBack(`UPDATE audit_chain c SET hash = ${REHASH} FROM audit_events e WHERE e.id = c.event_id AND c.event_id = $1`, [ids[1]]);
    expect(await verify(projectId)).toEqual({ ok: false, events: 5, pending: 0, first_bad: { id: ids[2], position: 3, reason: 'prev_hash' } });
  });

  it('catches an edited last event whose link was rehashed by the head (head_hash)', async () => {
    const { projectId, ids } = await chainOf(3);
    await behindTheBack(`UPDATE audit_events SET after = '{"label":"forged"}' WHERE id = $1`, [ids[2]]);
    await behindTheBack(`UPDATE audit_chain c SET hash = ${REHASH} FROM audit_events e WHERE e.id = c.event_id AND c.event_id = $1`, [ids[2]]);
    expect(await verify(projectId)).toEqual({ ok: false, events: 3, pending: 0, first_bad: { id: ids[2], position: 3, reason: 'head_hash' } });
  });

  it('catches a deleted last link and event by the head (missing_tail: position events + 1, no id)', async () => {
    const { projectId, ids } = await chainOf(5);
    await behindTheBack('DELETE FROM audit_chain WHERE event_id = $1; DELETE FROM audit_events WHERE id = $1'.replace(/\$1/g, String(ids[4])));
    expect(await verify(projectId)).toEqual({ ok: false, events: 4, pending: 0, first_bad: { id: null, position: 5, reason: 'missing_tail' } });
  });

  it('catches a chain whose only link and event were deleted (missing_tail)', async () => {
    const { projectId, ids } = await chainOf(1);
    await behindTheBack('DELETE FROM audit_chain WHERE event_id = $1; DELETE FROM audit_events WHERE id = $1'.replace(/\$1/g, String(ids[0])));
    expect(await verify(projectId)).toEqual({ ok: false, events: 0, pending: 0, first_bad: { id: null, position: 1, reason: 'missing_tail' } });
  });

  it('catches an event the sealer has passed that is in no link (unchained): inserted with an old txid', async () => {
    const { projectId, ids } = await chainOf(3);
    const { rows } = await pool().query(
      `INSERT INTO audit_events (project_id, kind, subject_type, subject_id, txid) VALUES ($1, 'annotation.created', 'annotation', 'x', '3') RETURNING id`,
      [projectId],
    );
    const forged = rows[0].id as number;
    expect(forged).toBeGreaterThan(ids[2]!);
    expect(await verify(projectId)).toEqual({ ok: false, events: 3, pending: 0, first_bad: { id: forged, position: 4, reason: 'unchained' } });
    // The sealer never picks it up.
    expect((await links(projectId)).map((l) => l.event_id)).toEqual(ids);
  });

  it('catches an unchained event whose last link was removed and the head moved back with it', async () => {
    const { projectId, ids } = await chainOf(4);
    await behindTheBack(
      `DELETE FROM audit_chain WHERE event_id = $2;
       UPDATE audit_heads h SET seq = c.seq, hash = c.hash FROM audit_chain c WHERE c.project_id = h.project_id AND c.event_id = $3 AND h.project_id = '$1'`
        .replace(/\$1/g, projectId)
        .replace(/\$2/g, String(ids[3]))
        .replace(/\$3/g, String(ids[2])),
    );
    expect(await verify(projectId)).toEqual({ ok: false, events: 3, pending: 0, first_bad: { id: ids[3], position: 4, reason: 'unchained' } });
  });

  it('reports the first of several bad links', async () => {
    const { projectId, ids } = await chainOf(6);
    await behindTheBack(`UPDATE audit_events SET after = '1' WHERE id = ANY ($1)`, [[ids[4], ids[1], ids[3]]]);
    expect((await verify(projectId)).first_bad).toEqual({ id: ids[1], position: 2, reason: 'hash' });
  });

  it('cannot see (as documented) a chain rewritten from a link to its end together with the head', async () => {
    const { projectId, ids } = await chainOf(4);
    await behindTheBack(`UPDATE audit_events SET after = '"forged"' WHERE id = $1`, [ids[2]]);
    for (const id of ids.slice(2)) {
      await behindTheBack(
        `UPDATE audit_chain c SET prev_hash = p.hash, hash = audit_event_hash(p.hash, audit_event_content(e.project_id, c.seq, e.kind,
           e.actor_user_id, e.actor_key_id, e.subject_type, e.subject_id, e.item_id, e.item_external_id, e.before, e.after, e.created_at))
         FROM audit_events e, audit_chain p WHERE e.id = c.event_id AND p.project_id = c.project_id AND p.seq = c.seq - 1 AND c.event_id = $1`,
        [id],
      );
    }
    await behindTheBack(`UPDATE audit_heads h SET hash = c.hash FROM audit_chain c WHERE c.project_id = h.project_id AND c.event_id = $1`, [ids[3]]);
    expect(await verify(projectId)).toEqual({ ok: true, events: 4, pending: 0, first_bad: null });
  });

  it('cannot see (as documented) an event inserted behind the API’s back before the sealer passed it', async () => {
    const { projectId, ids } = await chainOf(2);
    const { rows } = await pool().query(
      `INSERT INTO audit_events (project_id, kind, subject_type, subject_id) VALUES ($1, 'annotation.deleted', 'annotation', 'x') RETURNING id`,
      [projectId],
    );
    expect(await settled(projectId)).toEqual({ ok: true, events: 3, pending: 0, first_bad: null });
    expect((await links(projectId)).map((l) => l.event_id)).toEqual([...ids, rows[0].id]);
  });
});

describe('pageAuditEvents and itemHistory', () => {
  it('pages by event id with a keyset, optionally by kinds; seq and hash null until sealed', async () => {
    const projectId = randomUUID();
    const ids = (
      await append([
        event(projectId, 1),
        event(projectId, 2, { kind: 'lease.created', subject: { type: 'lease', id: 'l-2' } }),
        event(projectId, 3),
        event(projectId, 4, { kind: 'member.added', subject: { type: 'member', id: USER }, item: null }),
        event(projectId, 5),
      ])
    ).map((r) => r.id);
    await append([event(randomUUID(), 1)]);

    // No seal has run since: every event is there, unlinked.
    const unsealed = await pageAuditEvents(pool(), projectId, { limit: 10 });
    expect(unsealed.map((e) => [e.id, e.seq, e.hash])).toEqual(ids.map((id) => [id, null, null]));

    expect(await settled(projectId)).toMatchObject({ ok: true, events: 5, pending: 0 });
    const first = await pageAuditEvents(pool(), projectId, { limit: 2 });
    expect(first.map((e) => [e.id, e.seq])).toEqual([
      [ids[0], 1],
      [ids[1], 2],
    ]);
    const next = await pageAuditEvents(pool(), projectId, { after: first.at(-1)!.id, limit: 2 });
    expect(next.map((e) => e.id)).toEqual([ids[2], ids[3]]);
    expect((await pageAuditEvents(pool(), projectId, { after: ids[3], limit: 2 })).map((e) => e.id)).toEqual([ids[4]]);
    expect(await pageAuditEvents(pool(), projectId, { after: ids[4], limit: 2 })).toEqual([]);
    const kinds = await pageAuditEvents(pool(), projectId, { limit: 10, kinds: ['lease.created', 'member.added'] });
    expect(kinds.map((e) => [e.id, e.seq, e.kind])).toEqual([
      [ids[1], 2, 'lease.created'],
      [ids[3], 4, 'member.added'],
    ]);
    expect((await pageAuditEvents(pool(), projectId, { limit: 10, kinds: [] })).length).toBe(5);

    const e = first[0]!;
    expect(e).toEqual({
      id: ids[0],
      seq: 1,
      kind: 'annotation.created',
      actor_user_id: USER,
      actor_key_id: KEY,
      subject_type: 'annotation',
      subject_id: '1',
      item_external_id: 'item-1',
      before: null,
      after: { label: 'pos', n: 1, nested: { ü: 'é', list: [1, 2.5, null] } },
      created_at: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/),
      hash: expect.stringMatching(/^[0-9a-f]{64}$/),
    });
    const [stored] = (await pool().query(`SELECT created_at FROM audit_events WHERE id = $1`, [e.id])).rows;
    expect(e.hash).toBe((await links(projectId))[0]!.hash.toString('hex'));
    expect(new Date(e.created_at).getTime()).toBe(stored.created_at.getTime());
  });

  it('lists an item’s history by id with a keyset, seq set once sealed', async () => {
    const projectId = randomUUID();
    const ids = (await append(Array.from({ length: 9 }, (_, i) => event(projectId, i + 1)))).map((r) => r.id);
    const item = { id: 1, externalId: 'item-1' };
    const unsealed = await itemHistory(pool(), projectId, item, { limit: 10 });
    expect(unsealed.map((e) => [e.id, e.seq, e.hash])).toEqual([
      [ids[0], null, null],
      [ids[3], null, null],
      [ids[6], null, null],
    ]);
    await settled(projectId);
    const history = await itemHistory(pool(), projectId, item, { limit: 2 });
    expect(history.map((e) => [e.id, e.seq, e.item_external_id])).toEqual([
      [ids[0], 1, 'item-1'],
      [ids[3], 4, 'item-1'],
    ]);
    expect((await itemHistory(pool(), projectId, item, { after: ids[3], limit: 2 })).map((e) => [e.id, e.seq])).toEqual([[ids[6], 7]]);
    expect(await itemHistory(pool(), projectId, { id: 99, externalId: 'nope' }, { limit: 2 })).toEqual([]);
  });

  it('puts the ingest batch that created an item (by its item id range) in its history, and no other batch', async () => {
    const projectId = randomUUID();
    const batch = (first: number, last: number): AuditEventInput => ({
      projectId,
      kind: 'items.ingested',
      actor: auditActor({ userId: USER, keyId: KEY }),
      subject: { type: 'batch', id: `b${first}` },
      after: { first_item_id: first, last_item_id: last },
    });
    const ids = (await append([batch(1, 10), batch(11, 20), event(projectId, 1), batch(21, 30)])).map((r) => r.id);
    const item = { id: 15, externalId: 'item-1' };
    expect((await itemHistory(pool(), projectId, item, { limit: 10 })).map((e) => [e.id, e.kind, e.subject_id])).toEqual([
      [ids[1], 'items.ingested', 'b11'],
      [ids[2], 'annotation.created', '1'],
    ]);
    // The range's ends belong to it; the keyset passes the batch like any other event.
    expect((await itemHistory(pool(), projectId, { id: 20, externalId: 'none' }, { limit: 10 })).map((e) => e.subject_id)).toEqual(['b11']);
    expect((await itemHistory(pool(), projectId, { id: 21, externalId: 'none' }, { limit: 10 })).map((e) => e.subject_id)).toEqual(['b21']);
    expect((await itemHistory(pool(), projectId, item, { after: ids[1], limit: 10 })).map((e) => e.id)).toEqual([ids[2]]);
    expect((await itemHistory(pool(), projectId, item, { limit: 1 })).map((e) => e.id)).toEqual([ids[1]]);
  });

  it('refuses a bad limit or after', async () => {
    await expect(pageAuditEvents(pool(), randomUUID(), { limit: 0 })).rejects.toThrow(RangeError);
    await expect(pageAuditEvents(pool(), randomUUID(), { limit: 1001 })).rejects.toThrow(RangeError);
    await expect(pageAuditEvents(pool(), randomUUID(), { limit: 5, after: 1.5 })).rejects.toThrow(RangeError);
    await expect(itemHistory(pool(), randomUUID(), { id: 1, externalId: 'x' }, { limit: 5, after: -1 })).rejects.toThrow(RangeError);
  });
});

type PlanNode = { 'Node Type': string; 'Relation Name'?: string; 'Index Name'?: string; 'Actual Rows'?: number; 'Actual Loops'?: number; Plans?: PlanNode[] };

function planNodes(plan: PlanNode): PlanNode[] {
  return [plan, ...(plan.Plans ?? []).flatMap(planNodes)];
}

/** A pool whose queries, and those of the clients it hands out, are recorded. */
function recordingPool(db: Pool, statements: { text: string; values: unknown[] }[]): Pool {
  const record = (run: (text: string, values: unknown[]) => unknown) => (text: string, values: unknown[]) => {
    statements.push({ text, values });
    return run(text, values);
  };
  return {
    connect: async () => {
      const client = await db.connect();
      const query = record((text, values) => client.query(text, values));
      return new Proxy(client, {
        get: (target, key) => (key === 'query' ? query : Reflect.get(target, key, target)),
      });
    },
    query: record((text, values) => db.query(text, values as unknown[])),
  } as unknown as Pool;
}

describe('at scale', () => {
  it('links a batch with work linear in its size (each step looks up its one event)', async () => {
    // The link statement is not exported: record it from a real seal.
    const statements: { text: string; values: unknown[] }[] = [];
    const recorder = recordingPool(pool(), statements);
    const deadline = Date.now() + 45_000;
    await append([event(randomUUID(), 1)]);
    while (!statements.some((s) => /WITH RECURSIVE/.test(s.text)) && Date.now() < deadline) {
      await sealAuditEvents(recorder);
      await sleep(50);
    }
    const link = statements.find((s) => /WITH RECURSIVE/.test(s.text))!;
    expect(link).toBeDefined();

    const n = 1000;
    const projectId = randomUUID();
    const client = await pool().connect();
    try {
      await client.query('BEGIN');
      const { rows } = await client.query(
        `INSERT INTO audit_events (project_id, kind, subject_type, subject_id, after)
         SELECT $1, 'annotation.created', 'annotation', s::text, jsonb_build_object('n', s) FROM generate_series(1, $2) s RETURNING id`,
        [projectId, n],
      );
      const ids = rows.map((r) => r.id as number).sort((x, y) => x - y);
      const { rows: plan } = await client.query(`EXPLAIN (ANALYZE, FORMAT JSON) ${link.text}`, [projectId, ids, 0, ZERO]);
      const nodes = planNodes(plan[0]['QUERY PLAN'][0].Plan);
      const worst = nodes.reduce((a, b) => ((a['Actual Rows'] ?? 0) * (a['Actual Loops'] ?? 0) >= (b['Actual Rows'] ?? 0) * (b['Actual Loops'] ?? 0) ? a : b));
      const rowsTouched = nodes.reduce((sum, node) => sum + (node['Actual Rows'] ?? 0) * (node['Actual Loops'] ?? 0), 0);
      console.log(`audit link of ${n} events: ${rowsTouched} plan rows; most: ${worst['Node Type']}, ${worst['Actual Rows']} rows x ${worst['Actual Loops']} loops`);
      // Linear: a few plan rows per link. Quadratic (each step rescanning the whole id list): ~n per link.
      expect(rowsTouched).toBeLessThan(20 * n);
    } finally {
      await client.query('ROLLBACK').catch(() => undefined);
      client.release();
    }
  });

  it('verifies 50,000 links in one ordered index scan with no sort', async () => {
    const db = pool();
    const big = randomUUID();
    // Links written directly (the hashes need not be right for the plan): events with an old txid,
    // which the sealer, once past it, never looks at, each with a link, and a head.
    await sealAuditEvents(db);
    await db.query(
      `INSERT INTO audit_events (project_id, kind, subject_type, subject_id, after, txid)
       SELECT $1, 'annotation.created', 'annotation', s::text, jsonb_build_object('n', s), '3' FROM generate_series(1, 50000) s`,
      [big],
    );
    await db.query(
      `INSERT INTO audit_chain (project_id, seq, event_id, prev_hash, hash)
       SELECT $1, row_number() OVER (ORDER BY id), id, $2, $2 FROM audit_events WHERE project_id = $1`,
      [big, ZERO],
    );
    await db.query('INSERT INTO audit_heads (project_id, seq, hash) VALUES ($1, 50000, $2)', [big, ZERO]);
    await db.query('ANALYZE audit_events; ANALYZE audit_chain; ANALYZE audit_heads');

    const statements: { text: string; values: unknown[] }[] = [];
    const started = Date.now();
    const verdict = await verifyAuditChain(recordingPool(db, statements), big);
    console.log(`audit at scale: verify of 50,000 links took ${Date.now() - started} ms (a seal included)`);
    expect(verdict).toEqual({ ok: false, events: 50_000, pending: 0, first_bad: { id: expect.any(Number), position: 1, reason: 'hash' } });

    // The verify statement is not exported: EXPLAIN the one just recorded.
    const verify = statements.find((s) => /WINDOW w AS/.test(s.text))!;
    expect(verify).toBeDefined();
    const { rows } = await db.query(`EXPLAIN (FORMAT JSON) ${verify.text}`, verify.values);
    // The links come from one scan of audit_chain's primary key, in seq order, into the window:
    // no sort (which, on a long chain, spills to disk) between them.
    const windows = planNodes(rows[0]['QUERY PLAN'][0].Plan).filter((n) => n['Node Type'] === 'WindowAgg');
    expect(windows).toHaveLength(1);
    const below = planNodes(windows[0]!);
    expect(below.filter((n) => n['Relation Name'] === 'audit_chain').map((n) => [n['Node Type'], n['Index Name']])).toEqual([['Index Scan', 'audit_chain_pkey']]);
    expect(below.filter((n) => /Sort/.test(n['Node Type'])).map((n) => n['Node Type'])).toEqual([]);
  });

  it('seals 50,000 events in one call', async () => {
    const big = randomUUID();
    await pool().query(
      `INSERT INTO audit_events (project_id, kind, subject_type, subject_id, item_id, item_external_id, after)
       SELECT $1, 'annotation.created', 'annotation', s::text, s, 'item-' || s, jsonb_build_object('label', 'pos', 'n', s)
       FROM generate_series(1, 50000) s`,
      [big],
    );
    // Time-boxed: each statement at most 5 s (a 10,000-event link takes well under 1 s when linear), so that a slow seal fails here instead of running on.
    const url = new URL(servers.db.url);
    url.searchParams.set('options', '-c statement_timeout=5000');
    const boxed = createPool(url.toString(), { max: 2 });
    try {
      const deadline = Date.now() + 45_000;
      let linked = 0;
      let ms = 0;
      // One call links them all; it is repeated only while a transaction elsewhere on the server
      // holds the horizon back (then it links nothing).
      while (linked === 0 && Date.now() < deadline) {
        const started = Date.now();
        linked = await sealAuditEvents(boxed);
        ms = Date.now() - started;
        if (linked === 0) await sleep(50);
      }
      console.log(`audit at scale: one sealAuditEvents call linked ${linked} events in ${ms} ms`);
      expect(linked).toBeGreaterThanOrEqual(50_000);
      expect(await verifyAuditChain(boxed, big)).toEqual({ ok: true, events: 50_000, pending: 0, first_bad: null });
    } finally {
      await boxed.end();
    }
  });
});
