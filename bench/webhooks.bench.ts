// Outbound webhook delivery: EVENTS events of one project fanned out to one subscription and
// delivered, signed, by the ingest service's dispatcher (the host as `alder start` runs it) to a
// receiver in a separate process, next to the raw ceiling measured in the same run: the same
// number of signed POSTs sent straight to that receiver from this process at the dispatcher's
// concurrency, with nothing stored. The events are emitted (one writer, through the outbox) and
// fanned out first, their first attempt scheduled an hour out; then they are made due at once
// and the delivery alone is timed, from that moment to the last one recorded delivered. The
// emit and fan-out rate is printed too.
import { fork, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { Agent, request } from 'undici';
import { withTransaction } from '@alder/db';
import { emitEvent } from '@alder/queues';
import { signWebhook } from '@alder/webhooks';
import { machine, median, startStack } from './harness';

const EVENTS = Number(process.argv[2] ?? 20_000);
const RUNS = Number(process.argv[3] ?? 3);
process.env.WEBHOOK_ALLOW_PRIVATE_TARGETS = 'true';
// The first attempt an hour after the event: nothing is sent until the bench makes them due.
process.env.WEBHOOK_RETRY_SCHEDULE = '1h,5s';
const CONCURRENCY = Number(process.env.WEBHOOK_CONCURRENCY ?? 128);

function startReceiver(): Promise<{ child: ChildProcess; port: number; counts(): Promise<{ received: number; verified: number; failed: number }> }> {
  const child = fork(fileURLToPath(new URL('./webhook-receiver.process.ts', import.meta.url)), [], { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'pipe', 'inherit', 'ipc'] });
  const lines = createInterface({ input: child.stdout! });
  const waiting: ((line: string) => void)[] = [];
  lines.on('line', (line) => waiting.shift()?.(line));
  const next = () => new Promise<string>((resolve) => waiting.push(resolve));
  return next().then((first) => ({
    child,
    port: JSON.parse(first).port as number,
    counts: () => {
      const line = next();
      child.kill('SIGUSR2');
      return line.then((l) => JSON.parse(l));
    },
  }));
}

const stack = await startStack();
const pool = stack.db.pool;
const ours: number[] = [];
const ceiling: number[] = [];
const api = (method: string, path: string, body?: unknown) =>
  fetch(`${stack.base}${path}`, { method, headers: { authorization: `Bearer ${stack.key}`, 'content-type': 'application/json' }, body: body === undefined ? undefined : JSON.stringify(body) }).then(async (r) => {
    if (r.status >= 300) throw new Error(`${method} ${path}: ${r.status} ${await r.text()}`);
    return r.json() as Promise<Record<string, any>>;
  });

const data = (i: number) => ({ batch_id: '6f1c1c9e-8b1a-4d5e-9a53-000000000001', source: 'json' as const, received: i, inserted: i, duplicates: 0, updated: 0, skipped_changes: 0, rejected: 0, labels_imported: 0 });

for (let run = 0; run < RUNS; run++) {
  const project = await api('POST', '/v1/projects', { name: `webhooks ${run}`, labels: ['a', 'b'] });
  const receiver = await startReceiver();
  const sub = await api('POST', `/v1/projects/${project.id}/webhooks`, { url: `http://127.0.0.1:${receiver.port}/hook`, events: ['batch.completed'] });
  receiver.child.send({ secret: sub.secret });

  // The events, as writers emit them: 100 a transaction (the outbox takes them as they commit).
  const started = performance.now();
  for (let i = 0; i < EVENTS; i += 100) {
    await withTransaction(pool, async (client) => {
      for (let j = i; j < Math.min(EVENTS, i + 100); j++) await emitEvent(client, project.id, 'batch.completed', data(j));
    });
  }
  for (;;) {
    const { rows } = await pool.query('SELECT count(*)::int AS n FROM webhook_deliveries WHERE subscription_id = $1', [sub.id]);
    if (rows[0].n >= EVENTS) break;
    await new Promise((r) => setTimeout(r, 50));
  }
  const fannedOut = (performance.now() - started) / 1000;
  const due = performance.now();
  await pool.query('UPDATE webhook_deliveries SET next_attempt_at = now() WHERE subscription_id = $1', [sub.id]);
  for (;;) {
    const { rows } = await pool.query(`SELECT count(*)::int AS n FROM webhook_deliveries WHERE subscription_id = $1 AND status = 'delivered'`, [sub.id]);
    if (rows[0].n >= EVENTS) break;
    await new Promise((r) => setTimeout(r, 20));
  }
  const seconds = (performance.now() - due) / 1000;
  const phases = `emitted and fanned out in ${fannedOut.toFixed(1)} s (${Math.round(EVENTS / fannedOut)} events/s)`;
  ours.push(EVENTS / seconds);
  const counts = await receiver.counts();
  if (counts.failed > 0 || counts.received < EVENTS) throw new Error(`receiver: ${JSON.stringify(counts)}`);

  // Ceiling: signed POSTs straight to the receiver, CONCURRENCY at a time, nothing stored.
  const agent = new Agent({ connections: CONCURRENCY });
  const url = `http://127.0.0.1:${receiver.port}/hook`;
  const bodies = Array.from({ length: 50 }, (_, i) => JSON.stringify({ type: 'batch.completed', timestamp: new Date().toISOString(), data: { project_id: project.id, ...data(i) } }));
  let next = 0;
  const rawStarted = performance.now();
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (next < EVENTS) {
        const i = next++;
        const body = bodies[i % bodies.length]!;
        const headers = signWebhook({ secret: sub.secret, id: `msg_${run}_${i}`, timestamp: new Date(), body });
        const res = await request(url, { method: 'POST', dispatcher: agent, headers: { ...headers, 'content-type': 'application/json' }, body });
        await res.body.text();
      }
    }),
  );
  ceiling.push(EVENTS / ((performance.now() - rawStarted) / 1000));
  await agent.close();
  receiver.child.kill('SIGTERM');
  console.log(`run ${run + 1}: ours ${Math.round(ours[run]!)} deliveries/s (${seconds.toFixed(1)} s), raw signed POSTs ${Math.round(ceiling[run]!)} /s, receiver verified ${counts.verified} samples; ${phases}`);
}

const m = median(ours);
const c = median(ceiling);
console.log(`machine: ${machine()}`);
console.log(`${EVENTS} events emitted through the outbox, fanned out and delivered signed to a receiver process: median ${Math.round(m)} deliveries/s (runs: ${ours.map(Math.round).join(', ')})`);
console.log(`ceiling, the same number of signed POSTs straight to the receiver (concurrency ${CONCURRENCY}): median ${Math.round(c)}/s (runs: ${ceiling.map(Math.round).join(', ')})`);
console.log(`ratio: ${(m / c).toFixed(2)}`);
await stack.close();
