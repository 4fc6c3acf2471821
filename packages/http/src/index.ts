export { buildHttpApp, type HttpApp, type HttpAppOptions } from './app';
export { hashApiKey, generateApiKey } from './api-keys';
export {
  anotherAdminCanSignIn,
  authenticateApiKey,
  createApiKey,
  ensureBootstrapKey,
  listApiKeys,
  revokeApiKey,
  type KeyIdentity,
  type RevokeOutcome,
  type StoredApiKey,
} from './api-keys.repository';
export { insertUser, findUser, listUsers, updateUser, isEmailTaken, type StoredUser, type UserChanges } from './users.repository';
export { listMembers, upsertMember, removeMember, MEMBER_PROJECTS_SQL, type StoredMember } from './members.repository';
export { actorOf } from './auth';
export { idempotencyKeysRetention } from './idempotency.retention';
export { createUserWithKey, createMember } from './people';
export { HttpProblem, problems, PROBLEM_BASE, type ProblemDocument, type ProblemFieldError, type ProblemKind } from './problem';
export type { Actor, HandlerDeps, HandlerMap, OperationHandler, OperationRequest } from './handler';
export {
  loadSpec,
  filterSpec,
  idempotentOperations,
  IDEMPOTENCY_KEY_PARAMETER,
  operationAccess,
  INSTANCE_ROLES,
  PROJECT_ROLES,
  SIGNATURE_RESOLVERS,
  type AccessRule,
  type InstanceRole,
  type OpenApiDocument,
  type OperationAccess,
  type ProjectRole,
  type SignatureResolver,
} from './spec';
export { BodyTooLarge, inflateCapped, mediaTypeOf, MULTIPART, NDJSON } from './body-encoding';
export { escapeUnstorable, MAX_JSON_DEPTH, mayHoldUnstorable, unstorableStrings } from './storable-strings';
