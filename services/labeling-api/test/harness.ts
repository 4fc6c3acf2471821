import type { Config } from '@alder/config';
import { withTransaction, type Pool } from '@alder/db';
import { insertItems as ingestItems } from '@alder/ingest';
import { createMember, type ProjectRole } from '@alder/http';
import { startTestApp, type TestApp, type TestRequest, type TestResponse } from '@alder/http/testing';
import { coldStartPriority, parseRankingEntry, rankingContextSchema } from '@alder/contracts';
import { createLabelingHandlers } from '../src/index';

export interface Harness extends Omit<TestApp, 'client'> {
  /** A request with the admin key unless `headers` says otherwise. */
  http(request: TestRequest): Promise<TestResponse>;
  /**
   * A user of the project with the role (made on first use, then the same one for this name
   * and project): requests with their key, and their ids.
   */
  as(projectId: string, name: string, role?: ProjectRole): Promise<Member>;
}

export interface Member {
  userId: string;
  key: string;
  keyId: string;
  http(request: TestRequest): Promise<TestResponse>;
}

/** The labeling API on a fresh database, with an admin key. */
export async function startHarness(overrides: Partial<Config> = {}): Promise<Harness> {
  const { client, ...rest } = await startTestApp(createLabelingHandlers, overrides);
  const members = new Map<string, Promise<Member>>();
  const withKey = (key: string) => (request: TestRequest) => client({ ...request, headers: { authorization: `Bearer ${key}`, ...request.headers } });
  return {
    ...rest,
    http: (request) => client({ ...request, headers: request.headers ?? { authorization: `Bearer ${rest.adminKey}` } }),
    as(projectId, name, role = 'annotator') {
      const id = `${projectId}/${name}`;
      let member = members.get(id);
      if (!member) {
        member = createMember(rest.db.pool, projectId, role, name).then((user) => ({ ...user, http: withKey(user.key) }));
        members.set(id, member);
      }
      return member;
    },
  };
}

export async function createProject(h: Harness, body: Record<string, unknown> = {}): Promise<string> {
  const res = await h.http({ method: 'POST', url: '/v1/projects', payload: { name: 'test', labels: ['pos', 'neg'], ...body } });
  if (res.statusCode !== 201) throw new Error(`createProject: ${res.statusCode} ${res.body}`);
  return res.json().id;
}

/** Unlabeled items written by ingest's own repository, oldest first; returns their ids. */
export async function insertItems(pool: Pool, projectId: string, count: number, split: 'pool' | 'test' = 'pool', prefix = 'i'): Promise<number[]> {
  const externalIds = Array.from({ length: count }, (_, i) => `${prefix}-${split}-${i + 1}`);
  return withTransaction(pool, async (client) => {
    const items = externalIds.map((id) => ({ external_id: id, text: `text of ${id}`, meta: {}, split, label: null }));
    const { inserted } = await ingestItems(client, projectId, null, items);
    if (inserted !== count) throw new Error(`insertItems: ${count - inserted} of the external ids already exist`);
    // Ingest answers with counts only; the tests need the ids.
    const { rows } = await client.query('SELECT id, external_id FROM items WHERE project_id = $1 AND external_id = ANY($2::text[])', [projectId, externalIds]);
    const idOf = new Map(rows.map((r) => [r.external_id as string, Number(r.id)]));
    return externalIds.map((id) => idOf.get(id)!);
  });
}

export async function insertModel(
  pool: Pool,
  projectId: string,
  model: { version: number; status?: string; labels?: string[]; metrics?: unknown; stopping?: unknown; current?: boolean },
): Promise<number> {
  const json = (value: unknown) => (value === undefined ? null : JSON.stringify(value));
  const { rows } = await pool.query(
    `INSERT INTO models (project_id, version, status, request_key, labels, backend, train_count, test_count, metrics, stopping, train_ms, finished_at)
     VALUES ($1, $2, $3, $4, $5, 'cpu', 10 * $2, 5, $6, $7, 120, CASE WHEN $3 = 'training' THEN NULL ELSE now() END)
     RETURNING id`,
    [projectId, model.version, model.status ?? 'ready', `test:${projectId}:${model.version}`, model.labels ?? ['pos', 'neg'], json(model.metrics), json(model.stopping)],
  );
  const id = Number(rows[0].id);
  if (model.current) await pool.query('UPDATE projects SET current_model_id = $2 WHERE id = $1', [projectId, id]);
  return id;
}

export interface Entry {
  itemId: number;
  priority: number;
  score?: number | null;
  probs?: number[] | null;
  /** Left out: `entry <item id>` is stored. Null: none is stored (the API derives it). */
  rationale?: string | null;
}

/**
 * A ready ranking made current, as sampling would write it. Every entry is checked against the
 * ranking-entry contract first (@alder/contracts), so a fixture can not store what sampling
 * never would; tests of a broken row write it with SQL of their own.
 */
export async function insertRanking(pool: Pool, projectId: string, modelId: number | null, strategy: string, entries: Entry[]): Promise<number> {
  const labels = modelId === null ? null : (await pool.query('SELECT labels FROM models WHERE id = $1', [modelId])).rows[0].labels;
  const ranking = rankingContextSchema.parse({ strategy, labels });
  const stored = entries.map((e) => ({
    ...e,
    score: e.score ?? null,
    probs: e.probs ?? null,
    rationale: e.rationale === undefined ? `entry ${e.itemId}` : e.rationale,
  }));
  for (const e of stored) parseRankingEntry(ranking, e);
  const { rows } = await pool.query(
    `INSERT INTO rankings (project_id, model_id, strategy, request_key, item_count, status, finished_at)
     VALUES ($1, $2, $3, gen_random_uuid()::text, $4, 'ready', now()) RETURNING id`,
    [projectId, modelId, strategy, entries.length],
  );
  const rankingId = Number(rows[0].id);
  for (const e of stored) {
    await pool.query('INSERT INTO ranking_entries (ranking_id, item_id, priority, score, probs, rationale) VALUES ($1, $2, $3, $4, $5, $6)', [
      rankingId,
      e.itemId,
      e.priority,
      e.score,
      e.probs,
      e.rationale,
    ]);
  }
  await pool.query('UPDATE projects SET current_ranking_id = $2 WHERE id = $1', [projectId, rankingId]);
  return rankingId;
}

/**
 * A cold-start ranking of the project's unlabeled pool items in id order (oldest first), made
 * current: what sampling publishes seconds after the first items arrive. Until a project has a
 * ranking, the next-task call answers 503 ranking-pending.
 */
export async function publishColdStart(pool: Pool, projectId: string): Promise<number> {
  const { rows } = await pool.query(`SELECT id FROM items WHERE project_id = $1 AND split = 'pool' AND status = 'unlabeled' ORDER BY id`, [projectId]);
  const n = rows.length;
  return insertRanking(pool, projectId, null, 'cold_start', rows.map((r, position) => ({
    itemId: Number(r.id),
    priority: coldStartPriority(position, n),
    rationale: `cold start: diverse pick ${position + 1} of ${n}`,
  })));
}

/** Row counts of everything a request could write. */
export async function counts(pool: Pool): Promise<Record<string, number>> {
  const { rows } = await pool.query(
    `SELECT (SELECT count(*) FROM annotations)::int AS annotations, (SELECT count(*) FROM outbox)::int AS outbox,
            (SELECT count(*) FROM items WHERE status = 'labeled')::int AS labeled,
            (SELECT count(*) FROM item_slots WHERE expires_at > now())::int AS leased,
            (SELECT count(*) FROM task_leases)::int AS leases,
            (SELECT count(*) FROM item_slots)::int AS slots,
            (SELECT count(*) FROM users)::int AS users,
            (SELECT count(*) FROM project_members)::int AS members,
            (SELECT count(*) FROM api_keys)::int AS api_keys,
            (SELECT coalesce(sum(label_count), 0) FROM projects)::int AS label_count`,
  );
  return rows[0];
}

export async function outboxFor(pool: Pool, projectId: string): Promise<{ queue: string; job_name: string; payload: Record<string, unknown> }[]> {
  const { rows } = await pool.query(`SELECT queue, job_name, payload FROM outbox WHERE payload->>'projectId' = $1 ORDER BY id`, [projectId]);
  return rows;
}

/**
 * After a test moved a lease's slot expiry by SQL (as time would), the item's own row follows
 * (items.slots_expire_at, which claims read), as the API keeps it.
 */
export async function syncItemExpiry(pool: Pool, taskId: string): Promise<void> {
  await pool.query(
    `UPDATE items i SET slots_expire_at = (SELECT min(s.expires_at) FROM item_slots s WHERE s.item_id = i.id AND s.expires_at IS NOT NULL)
     WHERE i.id = (SELECT item_id FROM task_leases WHERE id = $1)`,
    [taskId],
  );
}

/** Lets a lease run out now, as time would: the lease, its slot and its item's row (which claims read). */
export async function expireLease(pool: Pool, taskId: string): Promise<void> {
  await pool.query(`UPDATE task_leases SET expires_at = now() - interval '1 second' WHERE id = $1`, [taskId]);
  await pool.query(`UPDATE item_slots SET expires_at = now() - interval '1 second' WHERE lease_id = $1`, [taskId]);
  await syncItemExpiry(pool, taskId);
}

/** A member's task calls, with their key. */
export const memberTasks = {
  next: (m: Member, projectId: string) => m.http({ method: 'POST', url: `/v1/projects/${projectId}/tasks/next` }),
  submit: (m: Member, taskId: string, label = 'pos', extra: Record<string, unknown> = {}) =>
    m.http({ method: 'POST', url: `/v1/tasks/${taskId}/annotation`, payload: { label, ...extra } }),
  release: (m: Member, taskId: string, reason?: string) => m.http({ method: 'DELETE', url: `/v1/tasks/${taskId}${reason ? `?reason=${reason}` : ''}` }),
  heartbeat: (m: Member, taskId: string) => m.http({ method: 'POST', url: `/v1/tasks/${taskId}/heartbeat` }),
};
