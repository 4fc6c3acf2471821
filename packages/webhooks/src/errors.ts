/** Why a webhook was refused, machine-readable. */
export type WebhookFailureReason = 'missing-headers' | 'timestamp-too-old' | 'timestamp-too-new' | 'bad-signature' | 'bad-secret';

/** A webhook that does not verify (or a secret that can not sign); `reason` says which check failed. */
export class WebhookVerificationError extends Error {
  constructor(
    readonly reason: WebhookFailureReason,
    message: string,
  ) {
    super(message);
    this.name = 'WebhookVerificationError';
  }
}
