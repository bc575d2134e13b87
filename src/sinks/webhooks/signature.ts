/**
 * Standard Webhooks signing (https://www.standardwebhooks.com): the signed content is
 * `${id}.${timestamp}.${body}`, signed with HMAC-SHA256 under the endpoint's secret, sent as
 * `webhook-signature: v1,<base64>`. Done with node:crypto, so the sink adds no runtime dependency;
 * the tests verify it with the reference `standardwebhooks` package.
 */
import { createHmac, randomBytes } from 'node:crypto';
import { InvalidOptionError } from '../../core/errors.js';

const SECRET_PREFIX = 'whsec_';
/** The spec's recommended key sizes, in bytes. */
const MIN_SECRET_BYTES = 24;
const MAX_SECRET_BYTES = 64;

/**
 * The key bytes of a `whsec_<base64>` secret. Throws InvalidOptionError (naming `field`) for
 * another form or a key outside 24–64 bytes, so a bad secret fails at configuration.
 */
export function parseWebhookSecret(secret: unknown, field = 'secret'): Buffer {
  if (typeof secret !== 'string' || !secret.startsWith(SECRET_PREFIX)) {
    throw new InvalidOptionError(
      field,
      'must be a string "whsec_<base64 key>" (see generateWebhookSecret())',
    );
  }
  const encoded = secret.slice(SECRET_PREFIX.length);
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(encoded)) {
    throw new InvalidOptionError(field, 'the part after "whsec_" must be base64');
  }
  const key = Buffer.from(encoded, 'base64');
  if (key.length < MIN_SECRET_BYTES || key.length > MAX_SECRET_BYTES) {
    throw new InvalidOptionError(
      field,
      `the key must be ${MIN_SECRET_BYTES}–${MAX_SECRET_BYTES} bytes, got ${key.length}`,
    );
  }
  return key;
}

/** A fresh random secret in the `whsec_<base64>` form (32 bytes), to give to a receiver. */
export function generateWebhookSecret(): string {
  return `${SECRET_PREFIX}${randomBytes(32).toString('base64')}`;
}

/** The headers of one signed delivery. */
export interface WebhookHeaders {
  'webhook-id': string;
  /** Seconds since the epoch when this attempt was sent (receivers reject old ones). */
  'webhook-timestamp': string;
  /** `v1,<base64 HMAC-SHA256>`, one per secret, space-separated. */
  'webhook-signature': string;
}

/** Most secrets one endpoint signs with at once (a rotation needs two). */
export const MAX_WEBHOOK_SECRETS = 5;

/**
 * The key bytes of an endpoint's `secret` option: one secret, or a list of them while one is
 * being rotated (1 to MAX_WEBHOOK_SECRETS, each as `parseWebhookSecret` wants it).
 */
export function parseWebhookSecrets(secret: unknown, field = 'secret'): Buffer[] {
  if (!Array.isArray(secret)) return [parseWebhookSecret(secret, field)];
  if (secret.length === 0 || secret.length > MAX_WEBHOOK_SECRETS) {
    throw new InvalidOptionError(
      field,
      `a list of secrets holds 1 to ${MAX_WEBHOOK_SECRETS} (the new and the old one while rotating), got ${secret.length}`,
    );
  }
  return secret.map((one, index) => parseWebhookSecret(one, `${field}[${index}]`));
}

/**
 * Sign a body per Standard Webhooks. `timestampSeconds` is the send time of this attempt: a
 * retry keeps its `webhook-id` but is signed anew with its own timestamp. With several secrets
 * the header carries one signature per secret, space-separated, as the spec allows for key
 * rotation: a receiver verifying with any one of them accepts the delivery.
 */
export function signWebhook(
  secret: string | readonly string[],
  messageId: string,
  timestampSeconds: number,
  body: string,
): WebhookHeaders {
  const timestamp = String(Math.floor(timestampSeconds));
  const content = `${messageId}.${timestamp}.${body}`;
  const signatures = parseWebhookSecrets(secret).map(
    (key) => `v1,${createHmac('sha256', key).update(content).digest('base64')}`,
  );
  return {
    'webhook-id': messageId,
    'webhook-timestamp': timestamp,
    'webhook-signature': signatures.join(' '),
  };
}
