import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { specPath } from '@alder/api-types';

const HTTP_METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'] as const;

type Operation = {
  operationId?: string;
  security?: unknown[];
  parameters?: unknown[];
  requestBody?: { required?: boolean };
  'x-alder-access'?: AccessRule;
  'x-alder-idempotent'?: unknown;
};
export type OpenApiDocument = {
  paths?: Record<string, Record<string, unknown>>;
  security?: unknown[];
  [key: string]: unknown;
};

/** Instance roles: an admin may do everything; a member what their project roles allow. */
export const INSTANCE_ROLES = ['admin', 'member'] as const;
export type InstanceRole = (typeof INSTANCE_ROLES)[number];
export const PROJECT_ROLES = ['manager', 'annotator', 'reviewer', 'expert', 'integrator', 'viewer'] as const;
export type ProjectRole = (typeof PROJECT_ROLES)[number];
/** How an operation's project is found: the path's project_id, or the project of the path's task, review or integration. */
export const PROJECT_RESOLVERS = ['path', 'task', 'review', 'integration'] as const;
export type ProjectResolver = (typeof PROJECT_RESOLVERS)[number];
/** Who signs an operation that takes no API key: the integration of the path's integration_id. */
export const SIGNATURE_RESOLVERS = ['integration'] as const;
export type SignatureResolver = (typeof SIGNATURE_RESOLVERS)[number];

/** An operation's `x-alder-access`, as written in the spec. */
export type AccessRule =
  | { instance: InstanceRole }
  /** `retained`: the resource outlives its project (the audit trail): admins may still read it once the project is deleted. */
  | { project: ProjectResolver; roles: ProjectRole[]; retained?: boolean }
  /**
   * No API key (`security: []`): the request carries a Standard Webhooks signature made with the
   * secret of the resource the resolver names; its handler verifies it against the raw body.
   */
  | { signature: SignatureResolver };

/** Who may call an operation: whether it needs an API key, and the rule the key's user must meet. */
export interface OperationAccess {
  authenticated: boolean;
  rule: AccessRule;
}

const cache = new Map<string, OpenApiDocument>();

/** Reads and parses the spec once per process. */
export function loadSpec(path: string = specPath): OpenApiDocument {
  let spec = cache.get(path);
  if (!spec) {
    spec = parse(readFileSync(path, 'utf8')) as OpenApiDocument;
    cache.set(path, spec);
  }
  return spec;
}

function* operationsOf(spec: OpenApiDocument): Generator<[path: string, method: string, op: Operation]> {
  for (const [path, item] of Object.entries(spec.paths ?? {})) {
    for (const method of HTTP_METHODS) {
      const op = item[method] as Operation | undefined;
      if (op) yield [path, method, op];
    }
  }
}

/** A copy of the spec with only the operations in `keep`, so the router registers nothing else. */
export function filterSpec(spec: OpenApiDocument, keep: ReadonlySet<string>): OpenApiDocument {
  const copy = structuredClone(spec);
  for (const [path, method, op] of operationsOf(copy)) {
    if (!op.operationId || !keep.has(op.operationId)) delete copy.paths![path]![method];
  }
  for (const [path, item] of Object.entries(copy.paths ?? {})) {
    if (!HTTP_METHODS.some((method) => method in item)) delete copy.paths![path];
  }
  return copy;
}

function checkedRule(operationId: string, rule: AccessRule | undefined): AccessRule {
  // No rule: admins only, the safe default for an operation someone forgot to annotate.
  if (rule === undefined) return { instance: 'admin' };
  if ('instance' in rule && (INSTANCE_ROLES as readonly string[]).includes(rule.instance)) return rule;
  if ('signature' in rule && (SIGNATURE_RESOLVERS as readonly string[]).includes(rule.signature) && Object.keys(rule).length === 1) return rule;
  if (
    'project' in rule &&
    (PROJECT_RESOLVERS as readonly string[]).includes(rule.project) &&
    Array.isArray(rule.roles) &&
    rule.roles.length > 0 &&
    rule.roles.every((role) => (PROJECT_ROLES as readonly string[]).includes(role)) &&
    (rule.retained === undefined || typeof rule.retained === 'boolean')
  ) {
    return rule;
  }
  throw new Error(`operation ${operationId}: x-alder-access ${JSON.stringify(rule)} is not { instance: admin|member }, { project: path|task|review|integration, roles: [project roles] } or { signature: integration }`);
}

/** operationId -> access: `security` (else the global one) and `x-alder-access` (default admins only). */
export function operationAccess(spec: OpenApiDocument): Map<string, OperationAccess> {
  const access = new Map<string, OperationAccess>();
  for (const [, , op] of operationsOf(spec)) {
    if (!op.operationId) continue;
    const security = op.security ?? spec.security ?? [];
    // `security: []`, or an empty requirement `{}` among the alternatives, makes a key optional.
    const authenticated = security.length > 0 && !security.some((req) => Object.keys(req as object).length === 0);
    const rule = checkedRule(op.operationId, op['x-alder-access']);
    // Exactly one way in: a key, or a signature. An operation open to anyone must say so by a
    // rule that names who signs it, and a signed one must not also take keys (which would it check?).
    if ('signature' in rule && authenticated) throw new Error(`operation ${op.operationId}: x-alder-access { signature } is for an operation without an API key (security: [])`);
    if (!('signature' in rule) && !authenticated) throw new Error(`operation ${op.operationId}: takes no API key (security: []) but x-alder-access names no signer ({ signature: integration })`);
    access.set(op.operationId, { authenticated, rule });
  }
  return access;
}

/** Every operationId in the spec. */
export function operationIds(spec: OpenApiDocument): string[] {
  return [...operationsOf(spec)].flatMap(([, , op]) => (op.operationId ? [op.operationId] : []));
}

/** Operations whose request body may be left out (`requestBody.required` is not true). */
export function optionalBodies(spec: OpenApiDocument): Set<string> {
  const ids = new Set<string>();
  for (const [, , op] of operationsOf(spec)) if (op.operationId && op.requestBody && op.requestBody.required !== true) ids.add(op.operationId);
  return ids;
}

/** The `$ref` an operation marked `x-alder-idempotent: true` lists among its parameters. */
export const IDEMPOTENCY_KEY_PARAMETER = '#/components/parameters/IdempotencyKey';

/**
 * Operations marked `x-alder-idempotent: true`: POSTs that create something, whose
 * `Idempotency-Key` header makes a retry safe (openapi/README.md, "Idempotency keys"). A mark
 * that is not a boolean, on another method, on an operation without an API key (keys are kept
 * per API key) or without the IdempotencyKey parameter (which validates the header) fails the
 * start, as a malformed x-alder-access does.
 */
export function idempotentOperations(spec: OpenApiDocument): Set<string> {
  const ids = new Set<string>();
  const access = operationAccess(spec);
  for (const [path, method, op] of operationsOf(spec)) {
    const mark = op['x-alder-idempotent'];
    if (mark === undefined || mark === false) continue;
    const name = op.operationId ?? `${method.toUpperCase()} ${path}`;
    if (mark !== true) throw new Error(`operation ${name}: x-alder-idempotent ${JSON.stringify(mark)} is not true or false`);
    if (method !== 'post') throw new Error(`operation ${name}: x-alder-idempotent is for POSTs (${method.toUpperCase()} is idempotent or reads)`);
    if (!op.operationId || !access.get(op.operationId)?.authenticated) throw new Error(`operation ${name}: x-alder-idempotent needs an operationId and an API key (keys are kept per API key)`);
    const listed = (op.parameters ?? []).some((p) => (p as { $ref?: string }).$ref === IDEMPOTENCY_KEY_PARAMETER);
    if (!listed) throw new Error(`operation ${name}: x-alder-idempotent needs the parameter { $ref: '${IDEMPOTENCY_KEY_PARAMETER}' }`);
    ids.add(op.operationId);
  }
  if (ids.size) {
    const parameter = (spec.components as { parameters?: Record<string, { name?: string; in?: string }> } | undefined)?.parameters?.IdempotencyKey;
    if (parameter?.in !== 'header' || parameter.name?.toLowerCase() !== 'idempotency-key') {
      throw new Error('components.parameters.IdempotencyKey must be the Idempotency-Key header');
    }
  }
  return ids;
}

type Parameter = { $ref?: string; in?: string; schema?: { type?: unknown; maxLength?: unknown } };

/** fastify's own default `maxParamLength`, kept as the least. */
const ROUTER_DEFAULT_PARAM_LENGTH = 100;

/**
 * The router's `maxParamLength`: the longest string path parameter the spec allows (an
 * external id, 256 code points), in UTF-16 units as the router counts the decoded value (two
 * per code point at most). A longer one is 414; up to this, the schema decides (404).
 */
export function pathParameterLimit(spec: OpenApiDocument): number {
  const shared = (spec.components as { parameters?: Record<string, Parameter> } | undefined)?.parameters ?? {};
  const resolve = (p: Parameter) => (p.$ref ? shared[p.$ref.split('/').pop()!] ?? {} : p);
  let longest = 0;
  for (const item of Object.values(spec.paths ?? {})) {
    const operations = HTTP_METHODS.flatMap((method) => ((item[method] as Operation | undefined)?.parameters ?? []) as Parameter[]);
    for (const parameter of [...((item.parameters ?? []) as Parameter[]), ...operations].map(resolve)) {
      if (parameter.in === 'path' && typeof parameter.schema?.maxLength === 'number') longest = Math.max(longest, parameter.schema.maxLength);
    }
  }
  return Math.max(ROUTER_DEFAULT_PARAM_LENGTH, 2 * longest);
}

type SchemaNode = Record<string, unknown>;

/** Every schema a request is validated against: parameters' and request bodies', by where they are. */
function* requestSchemas(spec: OpenApiDocument): Generator<[where: string, schema: unknown]> {
  const shared = (spec.components as { parameters?: Record<string, Parameter> } | undefined)?.parameters ?? {};
  for (const [path, item] of Object.entries(spec.paths ?? {})) {
    for (const method of HTTP_METHODS) {
      const op = item[method] as (Operation & { requestBody?: { content?: Record<string, { schema?: unknown }> } }) | undefined;
      if (!op) continue;
      const where = `${method.toUpperCase()} ${path}`;
      for (const p of [...((item.parameters ?? []) as Parameter[]), ...((op.parameters ?? []) as Parameter[])]) {
        const parameter = (p.$ref ? shared[p.$ref.split('/').pop()!] : p) as (Parameter & { name?: string }) | undefined;
        if (parameter?.schema) yield [`${where} ${parameter.in} ${parameter.name}`, parameter.schema];
      }
      for (const [type, media] of Object.entries(op.requestBody?.content ?? {})) if (media.schema) yield [`${where} body ${type}`, media.schema];
    }
  }
}

const typesOf = (node: SchemaNode) => (Array.isArray(node.type) ? node.type : [node.type]);
const bounded = (low: unknown, high: unknown) =>
  typeof low === 'number' && typeof high === 'number' && low >= -Number.MAX_SAFE_INTEGER && high <= Number.MAX_SAFE_INTEGER;

/**
 * Where the spec lets a request carry a number with no declared bounds, or bounds past 2^53 - 1
 * (integers past it are not exact in JSON, and Postgres columns are int4 or int8), or a
 * non-integer number without `format: float` or `double` (the column it goes to): each is a
 * value that can reach a query out of the column's range. `[]` for a spec that bounds them all.
 */
export function unboundedRequestNumbers(spec: OpenApiDocument): string[] {
  const schemas = (spec.components as { schemas?: Record<string, unknown> } | undefined)?.schemas ?? {};
  const found = new Set<string>();
  const walk = (node: unknown, where: string, seen: ReadonlySet<string>): void => {
    if (Array.isArray(node)) return node.forEach((child) => walk(child, where, seen));
    if (node === null || typeof node !== 'object') return;
    const schema = node as SchemaNode;
    if (typeof schema.$ref === 'string') {
      const name = schema.$ref.split('/').pop()!;
      if (!seen.has(name)) walk(schemas[name], `${where} (${name})`, new Set([...seen, name]));
      return;
    }
    if (typesOf(schema).some((type) => type === 'integer' || type === 'number')) {
      if (!bounded(schema.minimum ?? schema.exclusiveMinimum, schema.maximum ?? schema.exclusiveMaximum)) found.add(where);
      // A float column's kind: `float` (real) refuses what rounds to 0 as a float4 (format
      // float, storable-formats.ts); `double` (double precision) takes any finite double.
      if (typesOf(schema).includes('number') && schema.format !== 'float' && schema.format !== 'double') found.add(`${where} (no format float or double)`);
    }
    for (const [key, child] of Object.entries(schema)) {
      if (key === 'properties' && child && typeof child === 'object') {
        for (const [name, property] of Object.entries(child)) walk(property, `${where}/${name}`, seen);
      } else if (key !== 'examples' && key !== 'default' && key !== 'enum' && key !== 'const') walk(child, where, seen);
    }
  };
  for (const [where, schema] of requestSchemas(spec)) walk(schema, where, new Set());
  return [...found];
}
