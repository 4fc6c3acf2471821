// Annotator hot path: next task (lease) + submit, over HTTP, with 16 concurrent annotators on a
// ranked pool of 100k items, next to the raw ceiling: a bare one-statement SKIP LOCKED claim.
import pg from 'pg';
import { createMember } from '@alder/http';
import { machine, median, quantile, startStack } from './harness';

const POOL = 100_000;
const CLIENTS = 16;
const SECONDS = 8;
const RUNS = 3;

const stack = await startStack();
const pool = stack.db.pool;
const json = { 'content-type': 'application/json' };

async function seedProject(run: number): Promise<string> {
  const { rows } = await pool.query(`INSERT INTO projects (name, labels) VALUES ($1, '{a,b}') RETURNING id`, [`tasks ${run}`]);
  const projectId = rows[0].id as string;
  await pool.query(
    `INSERT INTO items (project_id, external_id, text, split, content_hash)
     SELECT $1, 'i' || g, 'text number ' || g, 'pool', '\\x00' FROM generate_series(1, $2) g`,
    [projectId, POOL],
  );
  // A margin ranking as sampling writes it (@alder/contracts): by a model, priority = score,
  // probabilities in the model's label order, the rationale left to the API to derive.
  const model = await pool.query(
    `INSERT INTO models (project_id, version, status, request_key, labels, finished_at) VALUES ($1, 1, 'ready', $2, '{a,b}', now()) RETURNING id`,
    [projectId, `bench-model-${run}`],
  );
  const ranking = await pool.query(`INSERT INTO rankings (project_id, model_id, strategy, request_key, status) VALUES ($1, $2, 'margin', $3, 'ready') RETURNING id`, [
    projectId,
    model.rows[0].id,
    `bench-${run}`,
  ]);
  await pool.query(
    `INSERT INTO ranking_entries (ranking_id, item_id, priority, score, probs, rationale)
     SELECT $1, id, s, s, ARRAY[1 - s / 2, s / 2]::real[], NULL FROM (SELECT id, random()::real AS s FROM items WHERE project_id = $2) scored`,
    [ranking.rows[0].id, projectId],
  );
  await pool.query('UPDATE projects SET current_model_id = $3, current_ranking_id = $1 WHERE id = $2', [ranking.rows[0].id, projectId, model.rows[0].id]);
  await pool.query('ANALYZE');
  return projectId;
}

async function runOurs(projectId: string): Promise<{ rate: number; p99: number }> {
  const latencies: number[] = [];
  // Each annotator is a user of their own, a member of the project, with their own key.
  const keys = await Promise.all(Array.from({ length: CLIENTS }, (_, c) => createMember(pool, projectId, 'annotator', `a${c}`)));
  const deadline = performance.now() + SECONDS * 1000;
  let done = 0;
  await Promise.all(
    keys.map(async ({ key }) => {
      const auth = { ...json, authorization: `Bearer ${key}` };
      while (performance.now() < deadline) {
        const t0 = performance.now();
        const next = await fetch(`${stack.base}/v1/projects/${projectId}/tasks/next`, { method: 'POST', headers: auth, body: '{}' });
        const task = (await next.json()) as { task_id: string };
        if (next.status !== 200) throw new Error(`next task answered ${next.status}: ${JSON.stringify(task)}`);
        const sub = await fetch(`${stack.base}/v1/tasks/${task.task_id}/annotation`, { method: 'POST', headers: auth, body: JSON.stringify({ label: 'a' }) });
        const answer = await sub.text();
        if (sub.status !== 201) throw new Error(`submit answered ${sub.status}: ${answer}`);
        latencies.push(performance.now() - t0);
        done++;
      }
    }),
  );
  return { rate: done / SECONDS, p99: quantile(latencies, 0.99) };
}

async function runCeiling(): Promise<number> {
  await pool.query('DROP TABLE IF EXISTS bare_queue');
  await pool.query('CREATE TABLE bare_queue (id bigserial PRIMARY KEY, priority real, leased boolean NOT NULL DEFAULT false)');
  await pool.query('INSERT INTO bare_queue (priority) SELECT random() FROM generate_series(1, $1)', [POOL]);
  await pool.query('CREATE INDEX ON bare_queue (priority DESC) WHERE NOT leased');
  await pool.query('ANALYZE bare_queue');
  const clients = await Promise.all(Array.from({ length: CLIENTS }, async () => {
    const client = new pg.Client({ connectionString: stack.db.url });
    await client.connect();
    return client;
  }));
  const deadline = performance.now() + SECONDS * 1000;
  let done = 0;
  await Promise.all(clients.map(async (client) => {
    while (performance.now() < deadline) {
      await client.query(`WITH c AS (SELECT id FROM bare_queue WHERE NOT leased ORDER BY priority DESC LIMIT 1 FOR UPDATE SKIP LOCKED)
                          UPDATE bare_queue q SET leased = true FROM c WHERE q.id = c.id RETURNING q.id`);
      done++;
    }
  }));
  await Promise.all(clients.map((client) => client.end()));
  return done / SECONDS;
}

const ours: number[] = [];
const p99s: number[] = [];
const ceiling: number[] = [];
for (let run = 0; run < RUNS; run++) {
  const projectId = await seedProject(run);
  const result = await runOurs(projectId);
  ours.push(result.rate);
  p99s.push(result.p99);
  ceiling.push(await runCeiling());
}
const m = median(ours);
const c = median(ceiling);
console.log(`machine: ${machine()}`);
console.log(`next task + submit over HTTP, ${CLIENTS} annotators, pool ${POOL}: median ${Math.round(m)} labels/s, p99 ${median(p99s).toFixed(1)} ms per pair (runs: ${ours.map(Math.round).join(', ')})`);
console.log(`ceiling, bare SKIP LOCKED claim (one statement), ${CLIENTS} clients:  median ${Math.round(c)} claims/s (runs: ${ceiling.map(Math.round).join(', ')})`);
console.log(`ratio: ${(m / c).toFixed(2)} (ours does two HTTP requests and two transactions per label)`);
await stack.close();
