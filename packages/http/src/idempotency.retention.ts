import type { RetentionTarget } from '@alder/queues';
import { deleteExpiredIdempotencyKeys } from './idempotency.repository';

/** Expired Idempotency-Keys, for `startRetention` (@alder/queues); each row carries its own expiry. */
export const idempotencyKeysRetention: RetentionTarget = { table: 'idempotency_keys', deleteBatch: deleteExpiredIdempotencyKeys };
