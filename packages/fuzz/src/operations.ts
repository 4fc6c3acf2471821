import { operationAccess, type OpenApiDocument } from '@alder/http';

const HTTP_METHODS = ['get', 'put', 'post', 'delete', 'patch'] as const;

/** A JSON Schema as the spec writes it ($refs unresolved). */
export type Schema = Record<string, unknown>;

export interface Parameter {
  name: string;
  in: 'path' | 'query' | 'header';
  required: boolean;
  schema: Schema;
}

/** One operation of the spec, with what a request to it is made of. */
export interface Operation {
  operationId: string;
  method: string;
  /** The path template, `/v1/projects/{project_id}`. */
  path: string;
  parameters: Parameter[];
  /** Request body schemas by media type; null when the operation takes no body. */
  body: { required: boolean; content: Record<string, Schema> } | null;
  /** Signed with a Standard Webhooks signature instead of an API key. */
  signed: boolean;
}

type RawParameter = Partial<Parameter> & { $ref?: string };
type RawOperation = {
  operationId?: string;
  parameters?: RawParameter[];
  requestBody?: { required?: boolean; content?: Record<string, { schema?: Schema }> };
};

/**
 * Every operation the spec has, parameters resolved (path-level ones merged in), so a generator
 * can make requests to each without knowing any route: a new operation is fuzzed from its spec.
 */
export function operationsOf(spec: OpenApiDocument): Operation[] {
  const shared = ((spec.components as { parameters?: Record<string, RawParameter> } | undefined)?.parameters ?? {}) as Record<string, RawParameter>;
  const resolve = (p: RawParameter): Parameter => {
    const found = p.$ref ? shared[p.$ref.split('/').pop()!] : p;
    if (!found?.name || !found.in) throw new Error(`parameter ${JSON.stringify(p)} does not resolve`);
    return { name: found.name, in: found.in, required: found.required === true, schema: found.schema ?? {} };
  };
  const access = operationAccess(spec);
  const operations: Operation[] = [];
  for (const [path, item] of Object.entries(spec.paths ?? {})) {
    const common = ((item.parameters ?? []) as RawParameter[]).map(resolve);
    for (const method of HTTP_METHODS) {
      const op = item[method] as RawOperation | undefined;
      if (!op?.operationId) continue;
      const content = Object.fromEntries(Object.entries(op.requestBody?.content ?? {}).map(([type, media]) => [type, media.schema ?? {}]));
      const rule = access.get(op.operationId)?.rule;
      operations.push({
        operationId: op.operationId,
        method: method.toUpperCase(),
        path,
        parameters: [...common, ...(op.parameters ?? []).map(resolve)],
        body: op.requestBody ? { required: op.requestBody.required === true, content } : null,
        signed: rule !== undefined && 'signature' in rule,
      });
    }
  }
  return operations;
}
