import { AjvCompiler } from '@fastify/ajv-compiler';
import Fastify, { type FastifyBaseLogger, type FastifyInstance, type FastifyServerOptions, type RouteOptions } from 'fastify';
import openapiGlue from 'fastify-openapi-glue';
import type { Redis } from 'ioredis';
import type { Config } from '@alder/config';
import type { Pool } from '@alder/db';
import type { Logger } from '@alder/logger';
import cors from '@fastify/cors';
import { accessHook, signatureHook } from './auth';
import { acceptGzipBodies, acceptStreamedBodies, refuseUnlistedStreams, streamedTypesOf } from './body-encoding';
import { clientErrorHandler } from './client-errors';
import { refuseWhileClosing } from './closing-guard';
import { registerDocsRoutes } from './docs.routes';
import { frameworkErrorHandler, installProblemHandlers } from './error-handler';
import type { HandlerMap } from './handler';
import { idempotencyHooks } from './idempotency';
import { createKeyLocks } from './idempotency-locks';
import { acceptJsonOnly } from './json-body';
import { addStorableFormats } from './storable-formats';
import { problemsOnly } from './problem-guard';
import { filterSpec, idempotentOperations, loadSpec, operationAccess, operationIds, optionalBodies, pathParameterLimit } from './spec';
import { requestIdOf, REQUEST_ID_HEADER } from './request-id';
import { RequestLog } from './request-log';
import { refuseNonFiniteParameters, refuseUnstorableParameters } from './storable-parameters';
import { registerSystemRoutes } from './system.routes';

/** The fastify instance `buildHttpApp` returns. */
export type HttpApp = FastifyInstance;

export interface HttpAppOptions {
  config: Config;
  pool: Pool;
  /** A producer connection (fails fast): `/readyz` pings it. */
  redis: Redis;
  log: Logger;
  /** Handlers by operationId; only these operations are routed. */
  handlers: HandlerMap;
  /** Another spec file (tests); default `openapi/openapi.yaml`. */
  specPath?: string;
}

function asArray<T>(value: T | T[] | undefined): T[] {
  return value === undefined ? [] : Array.isArray(value) ? value : [value];
}

const ajvPool = AjvCompiler();

type HeadersSchema = { properties?: Record<string, unknown>; required?: string[]; [key: string]: unknown };

/**
 * The header parameters' schema with lowercase names, as Node names every header it receives.
 * fastify does this itself only for its own validator, not for a custom one (bodyStrictValidators
 * below), where `Idempotency-Key` would otherwise never match and go unvalidated.
 */
function lowerCaseHeaderNames(schema: HeadersSchema): HeadersSchema {
  return {
    ...schema,
    ...(schema.properties && { properties: Object.fromEntries(Object.entries(schema.properties).map(([name, value]) => [name.toLowerCase(), value])) }),
    ...(schema.required && { required: schema.required.map((name) => name.toLowerCase()) }),
  };
}

/**
 * CORS for browser annotation UIs on other origins: exactly the origins in CORS_ORIGINS get the
 * CORS headers (preflights answered, 204); any other origin gets none, so browsers refuse it.
 * Keys travel in headers, not cookies: no credentials mode.
 */
async function registerCors(app: FastifyInstance, origins: readonly string[]): Promise<void> {
  const allowed = new Set(origins);
  await app.register(cors, {
    origin: (origin, callback) => callback(null, origin !== undefined && allowed.has(origin)),
    methods: ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'],
    allowedHeaders: ['authorization', 'x-api-key', 'content-type', 'idempotency-key', 'x-request-id'],
    exposedHeaders: ['x-request-id', 'retry-after', 'location', 'idempotent-replayed'],
    maxAge: 600,
    strictPreflight: true,
  });
}

/**
 * Validators as fastify builds them, except that request bodies are never coerced: JSON has
 * types, and `"5"` where the contract says integer, or `5` where it says string, is the client's
 * mistake to hear about (422), not to have silently converted. Path and query parameters arrive
 * as strings and keep fastify's coercion.
 */
type BuildValidator = NonNullable<NonNullable<NonNullable<FastifyServerOptions['schemaController']>['compilersFactory']>['buildValidator']>;
const bodyStrictValidators: BuildValidator = (externalSchemas, options) => {
  const build = ajvPool as unknown as BuildValidator;
  const custom = (options as { customOptions?: Record<string, unknown> } | undefined)?.customOptions;
  const coercing = build(externalSchemas, options);
  const strict = build(externalSchemas, { ...options, customOptions: { ...custom, coerceTypes: false } } as typeof options);
  return (route) => (route.httpPart === 'body' ? strict : coercing)(route);
};

/**
 * The fastify app of ingest, labeling-api or the all-in-one: routes for the operations in
 * `handlers`, registered from the spec so requests are validated and responses serialised by it;
 * problem+json errors; API-key auth; `/healthz`, `/readyz`, `/openapi.json`, `/docs`.
 * Resolves once the app is ready (a bad spec or an unknown operationId fails here).
 */
export async function buildHttpApp(options: HttpAppOptions): Promise<HttpApp> {
  const { config, pool, redis, log, handlers } = options;
  const spec = loadSpec(options.specPath);
  const known = new Set(operationIds(spec));
  const unknown = Object.keys(handlers).filter((id) => !known.has(id));
  if (unknown.length) throw new Error(`handlers for operations the spec does not have: ${unknown.join(', ')}`);
  const access = operationAccess(spec);
  const bodyOptional = optionalBodies(spec);
  const idempotent = idempotentOperations(spec);
  // Opened on the first request with an Idempotency-Key, closed with the app.
  const keyLocks = createKeyLocks(pool, log.child({ module: 'idempotency' }));

  const app = Fastify({
    // pino's own types and fastify's copy of them differ only nominally.
    loggerInstance: log.child({ module: 'http' }) as unknown as FastifyBaseLogger,
    bodyLimit: config.MAX_BODY_BYTES,
    // A client's X-Request-Id only when it is of a safe form (request-id.ts), else a fresh one.
    genReqId: requestIdOf,
    logController: new RequestLog(),
    // What fastify and Node refuse on their own is answered as problem+json too.
    frameworkErrors: frameworkErrorHandler,
    clientErrorHandler,
    routerOptions: { maxParamLength: pathParameterLimit(spec) },
    // Replaced by refuseWhileClosing, which answers problem+json.
    return503OnClosing: false,
    ajv: {
      // Report every problem of a batch at once, refuse unknown fields instead of dropping them.
      customOptions: { allErrors: true, removeAdditional: false, allowUnionTypes: true },
      // After ajv-formats: `float` and `date-time` also mean what Postgres can store.
      onCreate: (ajv) => addStorableFormats(ajv as never),
    },
    schemaController: { compilersFactory: { buildValidator: bodyStrictValidators } },
  });
  app.decorateRequest('actor', null);
  app.decorateRequest('rawBody', null);
  installProblemHandlers(app);
  refuseWhileClosing(app);
  app.addHook('onSend', async (request, reply) => {
    reply.header(REQUEST_ID_HEADER, request.id);
  });
  app.addHook('onSend', problemsOnly);
  app.addHook('preValidation', refuseUnstorableParameters);
  app.addHook('preHandler', refuseNonFiniteParameters);
  acceptJsonOnly(app);
  acceptStreamedBodies(app);
  acceptGzipBodies(app, { maxJsonBytes: config.MAX_BODY_BYTES, maxStreamBytes: config.MAX_INFLATED_BYTES });
  app.addHook('onRoute', (route: RouteOptions) => {
    const schema = route.schema as { operationId?: string; body?: { content?: Record<string, { schema?: unknown }> }; headers?: HeadersSchema } | undefined;
    // fastify skips body validation for a media type the body schema does not list, and for a
    // request without a body: with JSON the only type parsed, a plain schema validates every
    // request. An operation that also takes a stream (NDJSON, a multipart file) keeps the schema
    // per media type (the JSON body validated, the stream read by its handler), and its handler
    // sees an absent body.
    const json = schema?.body?.content?.['application/json'];
    const streamed = streamedTypesOf(schema?.body?.content);
    if (schema?.body?.content && json?.schema) {
      schema.body = (streamed.size ? { content: { 'application/json': { schema: json.schema } } } : json.schema) as typeof schema.body;
    }
    route.preValidation = [refuseUnlistedStreams(streamed), ...asArray(route.preValidation)] as RouteOptions['preValidation'];
    if (schema?.headers) schema.headers = lowerCaseHeaderNames(schema.headers);
    // A body the spec lets the client leave out is validated as the empty object it stands for.
    if (schema?.operationId && bodyOptional.has(schema.operationId)) {
      route.preValidation = [
        async (request: { body: unknown }) => {
          if (request.body === undefined || request.body === null) request.body = {};
        },
        ...asArray(route.preValidation),
      ] as RouteOptions['preValidation'];
    }
    const rule = schema?.operationId ? access.get(schema.operationId) : undefined;
    if (rule?.authenticated) route.onRequest = [accessHook(pool, rule), ...asArray(route.onRequest)];
    if (rule && 'signature' in rule.rule) {
      route.onRequest = [signatureHook(), ...asArray(route.onRequest)];
      route.config = { ...route.config, rawBody: true };
    }
    if (schema?.operationId && idempotent.has(schema.operationId)) {
      const hooks = idempotencyHooks(schema.operationId, { pool, locks: keyLocks, ttlHours: config.IDEMPOTENCY_KEY_TTL_HOURS });
      route.preHandler = [...asArray(route.preHandler), hooks.preHandler] as RouteOptions['preHandler'];
      route.onSend = [...asArray(route.onSend), hooks.onSend] as RouteOptions['onSend'];
      route.onResponse = [...asArray(route.onResponse), hooks.onResponse] as RouteOptions['onResponse'];
    }
  });
  app.addHook('onClose', () => keyLocks.close());

  await registerCors(app, config.CORS_ORIGINS);
  registerSystemRoutes(app, { pool, redis, spec });
  registerDocsRoutes(app);
  await app.register(openapiGlue, {
    specification: filterSpec(spec, new Set(Object.keys(handlers))),
    operationResolver: (operationId: string) => (handlers as Record<string, RouteOptions['handler']>)[operationId],
  });
  await app.ready();
  return app;
}
