import { LogController, type FastifyReply, type FastifyRequest } from 'fastify';
import { PROBE_PATHS } from './system.routes';

/**
 * fastify's per-request log lines, one level down: each request is one `debug` line (method,
 * URL, status, milliseconds) instead of two `info` lines, so a terminal at the default level
 * shows what the services do rather than every request; `LOG_LEVEL=debug` brings them back.
 * Probes (`PROBE_PATHS`) are not logged at all. A request that errored stays an `error` line,
 * and fastify's other lines (stream and serializer errors, closing) keep their levels.
 */
export class RequestLog extends LogController {
  constructor() {
    super({ disableRequestLogging: (request: { url?: string }) => PROBE_PATHS.has(request.url ?? '') });
  }

  override incomingRequest(request: FastifyRequest): void {
    if (this.isLogDisabled(request)) return;
    request.log.trace({ method: request.method, url: request.url }, 'incoming request');
  }

  override requestCompleted(error: Error | null | undefined, request: FastifyRequest, reply: FastifyReply, metadata?: Record<string, unknown>): void {
    if (error) return super.requestCompleted(error, request, reply, metadata);
    if (this.isLogDisabled(request)) return;
    const ms = Math.round(reply.elapsedTime * 10) / 10;
    request.log.debug({ method: request.method, url: request.url, statusCode: reply.statusCode, responseTime: ms }, 'request completed');
  }
}
