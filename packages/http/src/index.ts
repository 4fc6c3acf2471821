export { buildHttpApp, type HttpApp, type HttpAppOptions } from './app';
export { hashApiKey, generateApiKey } from './api-keys';
export {
  authenticateApiKey,
  createApiKey,
  ensureBootstrapKey,
  listApiKeys,
  revokeApiKey,
  type RevokeOutcome,
  type StoredApiKey,
} from './api-keys.repository';
export { HttpProblem, problems, PROBLEM_BASE, type ProblemDocument, type ProblemFieldError, type ProblemKind } from './problem';
export type { ApiKeyIdentity, HandlerDeps, HandlerMap, OperationHandler, OperationRequest } from './handler';
export { loadSpec, filterSpec, operationAccess, type OpenApiDocument, type OperationAccess } from './spec';
