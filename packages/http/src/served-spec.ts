import type { OpenApiDocument } from './spec';

/**
 * Where "Try it out" sends requests: a relative URL, which OpenAPI resolves against the URL the
 * document was fetched from, so it is this server whatever its port, host name or scheme (a TLS
 * proxy in front included), without trusting any X-Forwarded-* header. `openapi.yaml` keeps the
 * default local address for tools that read the file itself.
 */
export const SERVED_SERVERS = [{ url: '/', description: 'the server this document came from' }];

type Parameter = { $ref?: string; name?: string; in?: string; [key: string]: unknown };

/** Follows a local `#/...` JSON pointer (RFC 6901) through `spec`; undefined where it leads nowhere. */
function pointerTarget(spec: OpenApiDocument, ref: string): unknown {
  if (!ref.startsWith('#/')) return undefined;
  let node: unknown = spec;
  for (const raw of ref.slice(2).split('/')) {
    const key = raw.replace(/~1/g, '/').replace(/~0/g, '~');
    if (node === null || typeof node !== 'object' || !(key in node)) return undefined;
    node = (node as Record<string, unknown>)[key];
  }
  return node;
}

function inlineParameter(spec: OpenApiDocument, parameter: Parameter, path: string): Parameter {
  const seen = new Set<string>();
  let current = parameter;
  while (current.$ref !== undefined) {
    const ref = current.$ref;
    if (seen.has(ref)) throw new Error(`openapi: parameter $ref cycle at ${ref} (path ${path})`);
    seen.add(ref);
    const target = pointerTarget(spec, ref);
    if (!target || typeof target !== 'object') throw new Error(`openapi: path ${path} has a parameter $ref ${ref} that resolves to nothing`);
    current = target as Parameter;
  }
  return structuredClone(current);
}

/**
 * The document `/openapi.json` serves (and Swagger UI at `/docs` renders): the spec with
 * `servers` pointing at this server and the `$ref`s of path-level parameters written out.
 *
 * Why the parameters: when an operation is opened before Swagger UI has resolved the whole
 * document (a deep link such as `/docs#/labeling/getProject`, or a reload with it open), Swagger
 * UI resolves only that operation's subtree and merges in the path item's `parameters` as they
 * are: a `$ref` there has no `name` or `in`, so it renders as an unnamed "any ()" row and "Try it
 * out" can not fill in the path. Operation-level `$ref`s are inside the subtree and resolve.
 * The spec file keeps its `$ref`s; the generated types and the router read the file.
 */
export function servedSpec(spec: OpenApiDocument): OpenApiDocument {
  const served: OpenApiDocument = { ...spec, servers: SERVED_SERVERS, paths: {} };
  for (const [path, item] of Object.entries(spec.paths ?? {})) {
    const parameters = item.parameters as Parameter[] | undefined;
    served.paths![path] = parameters ? { ...item, parameters: parameters.map((p) => inlineParameter(spec, p, path)) } : item;
  }
  return served;
}
