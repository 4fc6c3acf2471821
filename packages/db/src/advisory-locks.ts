/**
 * Every Postgres advisory lock id Alder takes, in one place so two features can never pick the
 * same number by accident. Any constants work: they only have to agree across processes.
 */
export const ADVISORY_LOCKS = {
  /** Serialises migration runs (replicas starting together). */
  migrations: 7_264_001,
  /** Serialises building the test template database (test kit). */
  testTemplate: 7_264_002,
  /** Serialises creating the bootstrap admin key (replicas starting together). */
  bootstrapKey: 7_264_003,
  /** Serialises key revocations, so two at once can not remove the last two admin keys. */
  revokeKey: 7_264_004,
  /** Held by the one process sweeping old outbox, processed_jobs and task_leases rows. */
  retention: 7_264_005,
  /** Held by the one process linking audit events into their chains (@alder/audit, sealAuditEvents). */
  auditSealer: 7_264_006,
  /**
   * The first key of the two-key form `pg_try_advisory_lock(int, int)` held while a request with
   * an Idempotency-Key runs (@alder/http, idempotency-locks.ts); the second is a hash of the key's
   * scope. Two-key locks never meet the one-key ones above (Postgres keeps them apart).
   */
  idempotency: 7_264_007,
} as const;
