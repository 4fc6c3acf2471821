import type { FastifyRequest } from 'fastify';
import { HttpProblem, problems, type ProblemFieldError } from './problem';
import { unstorableReason } from './storable-strings';

const valuesOf = (value: unknown): unknown[] => (Array.isArray(value) ? value : [value]);

/** Path first, then query: what of the request's parameters `reason` finds fault with, and why. */
function refuseParameters(request: FastifyRequest, reason: (value: unknown) => string | null, detail: string): void {
  for (const value of Object.values((request.params ?? {}) as Record<string, unknown>)) {
    // A path value that can not be stored names nothing stored: 404, as a malformed id does.
    if (valuesOf(value).some((item) => reason(item) !== null)) throw new HttpProblem(404, 'not-found', 'No such resource.');
  }
  const errors: ProblemFieldError[] = [];
  for (const [name, value] of Object.entries((request.query ?? {}) as Record<string, unknown>)) {
    for (const item of valuesOf(value)) {
      const why = reason(item);
      if (why) errors.push({ path: `query/${name}`, message: why });
    }
  }
  if (errors.length) throw problems.validation(detail, errors);
}

const unstorableText = (value: unknown) => (typeof value === 'string' ? unstorableReason(value) : null);
const nonFinite = (value: unknown) => (typeof value === 'number' && !Number.isFinite(value) ? 'must be a finite number' : null);

/**
 * preValidation, for every route: path and query values are strings the schema may let through
 * (an external id, a free-text filter), and `%00` decodes to a NUL that Postgres refuses mid-
 * query (a 500). A path value that can not be stored is 404, a query value 422 naming it. (A
 * lone surrogate can not arrive here: percent-decoding refuses encoded surrogates, and the URL is
 * read as bytes, not UTF-16; it is looked for anyway, as in bodies.)
 */
export async function refuseUnstorableParameters(request: FastifyRequest): Promise<void> {
  refuseParameters(request, unstorableText, 'The query holds text that can not be stored as sent.');
}

/**
 * preHandler, for every route, once the schema has coerced path and query values: Ajv turns
 * `1e400` into Infinity for an integer and then skips its bounds (they are checked only for
 * finite numbers), so `/models/1e400` would reach a query as Infinity. Refused as any value past
 * the bounds is: 404 in the path, 422 in the query.
 */
export async function refuseNonFiniteParameters(request: FastifyRequest): Promise<void> {
  refuseParameters(request, nonFinite, 'The request does not match the API schema.');
}
