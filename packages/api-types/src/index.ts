import { fileURLToPath } from 'node:url';
import type { components, operations } from './schema';

export type { paths, components, operations } from './schema';

/** Every schema of the spec by name, e.g. `Schemas['Task']`. */
export type Schemas = components['schemas'];

/** The spec's operation ids (`ingestItems`, `getNextTask`, ...). */
export type OperationId = keyof operations;

type Json<T> = T extends { content: { 'application/json': infer B } } ? B : never;

/**
 * The JSON request body of an operation (`never` when it takes none). An optional body is typed
 * as its schema too: the app hands the handler `{}` for one left out.
 */
export type RequestBody<Op extends OperationId> = operations[Op] extends { requestBody?: infer R } ? Json<NonNullable<R>> : never;

/** The path parameters of an operation. */
export type PathParams<Op extends OperationId> = operations[Op]['parameters'] extends { path: infer P } ? P : Record<string, never>;

/** The query parameters of an operation. */
export type QueryParams<Op extends OperationId> = operations[Op]['parameters'] extends { query?: infer Q } ? NonNullable<Q> : Record<string, never>;

/** The JSON body of one response of an operation. */
export type ResponseBody<Op extends OperationId, Status extends keyof operations[Op]['responses']> = Json<operations[Op]['responses'][Status]>;

/** The JSON body of any 2xx response of an operation. */
export type SuccessBody<Op extends OperationId> = {
  [S in keyof operations[Op]['responses']]: S extends 200 | 201 | 202 ? Json<operations[Op]['responses'][S]> : never;
}[keyof operations[Op]['responses']];

/** Absolute path of `openapi/openapi.yaml`, the source of truth these types come from. */
export const specPath = fileURLToPath(new URL('../../../openapi/openapi.yaml', import.meta.url));
