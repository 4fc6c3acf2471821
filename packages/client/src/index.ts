export { createAlderClient, type AlderClient, type AlderClientOptions } from './alder.client';
export { AlderApiError, AlderConnectionError, AlderError, retryAfterSeconds } from './errors';
export { IDEMPOTENCY_HEADER } from './idempotency';
export type { IngestStreamOptions, NdjsonSource } from './ingest.stream';
export { defaultBackoff, RETRY_STATUSES, type RetryInfo, type RetryOptions } from './retry';
// The receiver's side of Alder's webhooks: one verifier for the whole codebase, not a copy.
export { verifyWebhook, WebhookVerificationError, DEFAULT_TOLERANCE_SECONDS, type VerifiedWebhook, type VerifyInput, type WebhookFailureReason } from '@alder/webhooks';
export type { paths, components, Schemas } from '@alder/api-types';
