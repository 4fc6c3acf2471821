export { generateWebhookSecret, SECRET_PREFIX } from './secret';
export { signWebhook, type SignInput, type WebhookHeaders } from './sign';
export { verifyWebhook, DEFAULT_TOLERANCE_SECONDS, type HeaderSource, type VerifiedWebhook, type VerifyInput } from './verify';
export { WebhookVerificationError, type WebhookFailureReason } from './errors';
