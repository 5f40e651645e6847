// @stablerail/sdk: the API client and webhook verification for merchant servers.
export { StablerailClient, StablerailApiError, type ClientOptions, type WebhookEndpoint, type List } from './client.js';
export {
  verifyWebhook,
  WebhookVerificationError,
  MemoryReplayStore,
  TOLERANCE_S_DEFAULT,
  type WebhookEvent,
  type WebhookVerificationCode,
  type ReplayStore,
  type VerifyOptions,
} from './verify.js';
export { signatureHeader, generateSecret, WebhookSecretError } from './signature.js';
