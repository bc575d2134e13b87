/**
 * `jobwire/webhooks`: deliver selected jobwire events to HTTP endpoints, signed per the Standard
 * Webhooks spec, each delivery a jobwire job in its own queue. See docs/webhooks.md.
 */
export { classifyAddress, type NonPublicKind } from './address.js';
export { WebhookResponseError, WebhookTargetRefusedError } from './deliver.js';
export {
  type AnyJobwireEvent,
  DEFAULT_WEBHOOK_BACKOFF,
  DEFAULT_WEBHOOK_MAX_ATTEMPTS,
  DEFAULT_WEBHOOK_QUEUE,
  DEFAULT_WEBHOOK_TIMEOUT_MS,
  type WebhookEndpoint,
  type WebhookLogSource,
  type WebhookSinkOptions,
} from './options.js';
export { generateWebhookSecret, signWebhook, type WebhookHeaders } from './signature.js';
export {
  WEBHOOK_DELIVER_TASK,
  type WebhookBody,
  type WebhookDelivery,
  type WebhookDeliveryResult,
  type WebhookSink,
  webhookMessageId,
  webhooks,
} from './sink.js';
