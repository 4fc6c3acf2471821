export { buildHttpApp, type HttpApp, type HttpAppOptions } from './app';
export { createApiKey, ensureBootstrapKey, hashApiKey, generateApiKey, type StoredApiKey } from './api-keys';
export { HttpProblem, problems, PROBLEM_BASE, type ProblemDocument, type ProblemFieldError, type ProblemKind } from './problem';
export type { ApiKeyIdentity, HandlerDeps, HandlerMap, OperationHandler, OperationRequest } from './handler';
export { loadSpec, filterSpec, operationAccess, type OpenApiDocument, type OperationAccess } from './spec';
export { runHttpService } from './run-http-service';
