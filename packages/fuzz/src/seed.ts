import { coldStartPriority } from '@alder/contracts';
import type { Pool } from '@alder/db';
import { randomUUID } from 'node:crypto';
import { createMember, PROJECT_ROLES } from '@alder/http';
import { insertEventDeliveries } from '@alder/ingest';
import type { TestClient, TestResponse } from '@alder/http/testing';
import type { KnownValues } from './known-values';

export const SEED_LABELS = ['pos', 'neg'];
const ITEMS = 20;

/** What the seed made that requests should be able to name. */
export interface Seeded {
  projectId: string;
  /** Keys of members of the project, one per project role. */
  memberKeys: string[];
  /** Strings of the app a plain string field may be given (labels, external ids, a webhook URL). */
  words: string[];
}

function expectStatus(what: string, res: TestResponse, status: number): any {
  if (res.statusCode !== status) throw new Error(`seed: ${what} answered ${res.statusCode}: ${res.body}`);
  return res.json();
}

/**
 * A small world for the fuzzer to reach into, made through the API where it can be and by SQL
 * where only a worker would write (a model, a cold-start ranking): a project with items (pool
 * and test) and a ranking, members of every role, a disagreement waiting for review, a leased task, an integration
 * with its secret, a webhook subscription, a second user and a second (empty) project. Every id
 * goes into `known`.
 */
export async function seedWorld(client: TestClient, pool: Pool, adminKey: string, known: KnownValues): Promise<Seeded> {
  const admin = { authorization: `Bearer ${adminKey}` };
  const call = (method: string, url: string, payload?: unknown, headers: Record<string, string> = admin) => client({ method, url, headers, payload });

  // Two annotators an item: a disagreement queues a review.
  const project = expectStatus('createProject', await call('POST', '/v1/projects', { name: 'fuzzed', labels: SEED_LABELS, guidelines: 'seeded', overlap: { annotators: 2 } }), 201);
  const projectId: string = project.id;
  known.add('project_id', projectId);
  const externalIds = Array.from({ length: ITEMS }, (_, i) => `item-${i + 1}`);
  const items = externalIds.map((id, i) => ({ external_id: id, text: `text of ${id}`, meta: { n: i }, split: i % 5 === 4 ? 'test' : 'pool', ...(i % 7 === 6 ? { label: 'pos' } : {}) }));
  const batch = expectStatus('ingestItems', await call('POST', `/v1/projects/${projectId}/items`, { items }), 200);
  known.add('batch_id', batch.batch_id);
  for (const id of externalIds) known.add('external_id', id);

  // What the trainer and sampling would write: a model version and a cold-start ranking of the pool.
  const model = await pool.query<{ id: string }>(
    `INSERT INTO models (project_id, version, status, request_key, labels, backend, train_count, test_count, train_ms, finished_at)
     VALUES ($1, 1, 'ready', 'fuzz-seed', $2, 'cpu', 10, 4, 100, now()) RETURNING id`,
    [projectId, SEED_LABELS],
  );
  await pool.query('UPDATE projects SET current_model_id = $2 WHERE id = $1', [projectId, model.rows[0]!.id]);
  known.add('version', 1);
  const pooled = await pool.query<{ id: string }>(`SELECT id FROM items WHERE project_id = $1 AND split = 'pool' AND status = 'unlabeled' ORDER BY id`, [projectId]);
  const ranking = await pool.query<{ id: string }>(
    `INSERT INTO rankings (project_id, model_id, strategy, request_key, item_count, status, finished_at) VALUES ($1, NULL, 'cold_start', 'fuzz-seed', $2, 'ready', now()) RETURNING id`,
    [projectId, pooled.rows.length],
  );
  for (const [position, row] of pooled.rows.entries()) {
    await pool.query('INSERT INTO ranking_entries (ranking_id, item_id, priority, score, probs, rationale) VALUES ($1, $2, $3, NULL, NULL, $4)', [
      ranking.rows[0]!.id,
      row.id,
      coldStartPriority(position, pooled.rows.length),
      `cold start: pick ${position + 1}`,
    ]);
  }
  await pool.query('UPDATE projects SET current_ranking_id = $2 WHERE id = $1', [projectId, ranking.rows[0]!.id]);

  const members = await Promise.all(PROJECT_ROLES.map((role) => createMember(pool, projectId, role, `fuzz ${role}`)));
  for (const member of members) known.add('user_id', member.userId);
  // Two annotators disagree on the first item (a review waits for whoever asks first), and one
  // task stays leased.
  const second = await createMember(pool, projectId, 'annotator', 'fuzz annotator 2');
  const annotators = [members[PROJECT_ROLES.indexOf('annotator')]!, second];
  for (const [i, label] of ['neg', 'pos', null].entries()) {
    const as = { 'x-api-key': annotators[i % 2]!.key };
    const task = expectStatus('getNextTask', await call('POST', `/v1/projects/${projectId}/tasks/next`, undefined, as), 200);
    known.add('task_id', task.task_id);
    if (label) expectStatus('submitAnnotation', await call('POST', `/v1/tasks/${task.task_id}/annotation`, { label }, as), 201);
  }

  const integration = expectStatus('createIntegration', await call('POST', `/v1/projects/${projectId}/integrations`, { name: 'fuzz hook' }), 201);
  known.add('integration_id', integration.id);
  known.secrets.set(integration.id, integration.secret);
  const hook = 'http://127.0.0.1:9/hook';
  const webhook = expectStatus('createWebhook', await call('POST', `/v1/projects/${projectId}/webhooks`, { url: hook }), 201);
  known.add('webhook_id', webhook.id);
  // Two deliveries of an event to it, as the outbound worker would write them: one dead (a
  // replay makes it pending again), one pending.
  for (let i = 0; i < 2; i++) {
    await insertEventDeliveries(pool, { eventId: randomUUID(), projectId, type: 'batch.completed', occurredAt: new Date().toISOString(), data: {} }, 3_600_000);
  }
  const deliveries = await pool.query<{ id: string }>('SELECT id FROM webhook_deliveries WHERE subscription_id = $1 ORDER BY id', [webhook.id]);
  await pool.query(`UPDATE webhook_deliveries SET status = 'dead', next_attempt_at = NULL, ended_at = now() WHERE id = $1`, [deliveries.rows[0]!.id]);
  for (const row of deliveries.rows) known.add('delivery_id', row.id);
  const user = expectStatus('createUser', await call('POST', '/v1/users', { name: 'fuzz user', email: 'fuzz@example.org' }), 201);
  known.add('user_id', user.id);
  const key = expectStatus('createApiKey', await call('POST', '/v1/api-keys', { name: 'fuzz key' }), 201);
  known.add('key_id', key.id);
  const empty = expectStatus('createProject', await call('POST', '/v1/projects', { name: 'empty', labels: ['a', 'b', 'c'] }), 201);
  known.add('project_id', empty.id);

  return { projectId, memberKeys: [...members, second].map((m) => m.key), words: [...SEED_LABELS, ...externalIds.slice(0, 3), hook, 'fuzz@example.org'] };
}
