import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { specPath } from '@alder/api-types';

const HTTP_METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'] as const;

type Operation = { operationId?: string; security?: unknown[]; 'x-alder-roles'?: string[] };
export type OpenApiDocument = {
  paths?: Record<string, Record<string, unknown>>;
  security?: unknown[];
  [key: string]: unknown;
};

/** Who may call an operation: whether it needs an API key, and which key roles. */
export interface OperationAccess {
  authenticated: boolean;
  roles: string[];
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

/** operationId -> access rule: `security` (else the global one) and `x-alder-roles` (default admin only). */
export function operationAccess(spec: OpenApiDocument): Map<string, OperationAccess> {
  const access = new Map<string, OperationAccess>();
  for (const [, , op] of operationsOf(spec)) {
    if (!op.operationId) continue;
    const security = op.security ?? spec.security ?? [];
    // `security: []`, or an empty requirement `{}` among the alternatives, makes a key optional.
    const authenticated = security.length > 0 && !security.some((req) => Object.keys(req as object).length === 0);
    access.set(op.operationId, { authenticated, roles: op['x-alder-roles'] ?? ['admin'] });
  }
  return access;
}

/** Every operationId in the spec. */
export function operationIds(spec: OpenApiDocument): string[] {
  return [...operationsOf(spec)].flatMap(([, , op]) => (op.operationId ? [op.operationId] : []));
}
