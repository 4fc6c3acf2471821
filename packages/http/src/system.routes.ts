import type { FastifyInstance } from 'fastify';
import type { Redis } from 'ioredis';
import type { Pool } from '@alder/db';
import { sendProblem } from './error-handler';
import { PROBLEM_BASE, problemTitles } from './problem';
import { servedSpec } from './served-spec';
import type { OpenApiDocument } from './spec';

const CHECK_TIMEOUT_MS = 2_000;

async function check(run: () => Promise<unknown>): Promise<'ok' | 'unavailable'> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error('timed out')), CHECK_TIMEOUT_MS);
  });
  try {
    await Promise.race([run(), timeout]);
    return 'ok';
  } catch {
    return 'unavailable';
  } finally {
    clearTimeout(timer);
  }
}

/** Probes run every few seconds: their requests are not logged (a failing /readyz still is). */
export const PROBE_PATHS = new Set(['/healthz', '/readyz']);

/** `/healthz` (the process is up), `/readyz` (Postgres and Redis answer), `/openapi.json` (see `servedSpec`). */
export function registerSystemRoutes(app: FastifyInstance, deps: { pool: Pool; redis: Redis; spec: OpenApiDocument }): void {
  app.get('/healthz', async () => ({ status: 'ok' }));

  app.get('/readyz', async (request, reply) => {
    const [postgres, redis] = await Promise.all([check(() => deps.pool.query('SELECT 1')), check(() => deps.redis.ping())]);
    const checks = { postgres, redis };
    if (postgres === 'ok' && redis === 'ok') return { status: 'ready', checks };
    request.log.warn({ checks }, 'not ready');
    return sendProblem(
      reply,
      request,
      {
        type: PROBLEM_BASE + 'unavailable',
        title: problemTitles.unavailable,
        status: 503,
        detail: `postgres: ${postgres}, redis: ${redis}`,
      },
      { 'retry-after': '5' },
    );
  });

  const specJson = JSON.stringify(servedSpec(deps.spec));
  app.get('/openapi.json', async (_request, reply) => reply.type('application/json; charset=utf-8').send(specJson));
}
