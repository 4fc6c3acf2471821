import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Config } from '@alder/config';
import type { Pool } from '@alder/db';
import type { Logger } from '@alder/logger';
import type { OperationId, PathParams, QueryParams, RequestBody, SuccessBody } from '@alder/api-types';
import type { InstanceRole, ProjectRole } from './spec';

/**
 * Who is acting: the user behind the request's API key, and, on an operation of a project, the
 * project and the user's role in it (null for an admin who is not a member).
 */
export interface Actor {
  keyId: string;
  userId: string;
  name: string;
  role: InstanceRole;
  projectId: string | null;
  projectRole: ProjectRole | null;
}

declare module 'fastify' {
  interface FastifyRequest {
    /** Set by the access hook on every operation that requires a key; null elsewhere. */
    actor: Actor | null;
    /** The body's bytes as received, on signed operations (`x-alder-access: { signature }`); null elsewhere. */
    rawBody: Buffer | null;
  }
  interface FastifyContextConfig {
    /** Keep the body's bytes in `request.rawBody` (set by the app for signed operations). */
    rawBody?: boolean;
  }
}

/** A request of one operation, typed from the spec. */
export type OperationRequest<Op extends OperationId> = FastifyRequest<{
  Body: RequestBody<Op>;
  Params: PathParams<Op>;
  Querystring: QueryParams<Op>;
}>;

/**
 * Handles one operation: return a 2xx body as the spec types it (status set on `reply`), or the
 * reply itself for an empty response, or throw an `HttpProblem`.
 */
export type OperationHandler<Op extends OperationId> = (request: OperationRequest<Op>, reply: FastifyReply) => Promise<SuccessBody<Op> | FastifyReply>;

/** Handlers keyed by operationId; only these operations get a route. */
export type HandlerMap = { [Op in OperationId]?: OperationHandler<Op> };

/** What a service's handler factory gets. */
export interface HandlerDeps {
  config: Config;
  pool: Pool;
  log: Logger;
}
