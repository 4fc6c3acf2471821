import type { FastifyInstance } from 'fastify';
import { HttpProblem } from './problem';

/**
 * Once the app is closing, a request that still arrives (pipelined, or on a kept-alive
 * connection) is answered 503 problem+json with `Connection: close`, before any work: a load
 * balancer sends it elsewhere. In place of fastify's `return503OnClosing`, which writes plain
 * JSON past every hook.
 */
export function refuseWhileClosing(app: FastifyInstance): void {
  let closing = false;
  app.addHook('preClose', async () => {
    closing = true;
  });
  app.addHook('onRequest', async (_request, reply) => {
    if (!closing) return;
    reply.header('connection', 'close');
    throw new HttpProblem(503, 'unavailable', 'This server is shutting down; retry.', undefined, { 'retry-after': '1' });
  });
}
