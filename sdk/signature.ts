// Standard Webhooks signing, the one place that decides what a signature is. The service
// signs with it and the SDK verifies with it, so the two can never disagree.
// signature = base64(HMAC-SHA256(secret_bytes, `${id}.${timestamp}.${body}`)), where the
// secret bytes are the base64-decoded part after `whsec_` and body is the exact bytes sent.
import { createHmac, randomBytes } from 'node:crypto';

export const SECRET_PREFIX = 'whsec_';
/** 24 random bytes: Standard Webhooks asks for 24 to 64. */
export const SECRET_BYTES = 24;
export const SIGNATURE_VERSION = 'v1';

export class WebhookSecretError extends Error {
  override name = 'WebhookSecretError';
}

export function generateSecret(): string {
  return `${SECRET_PREFIX}${randomBytes(SECRET_BYTES).toString('base64')}`;
}

export function secretBytes(secret: string): Buffer {
  if (!secret.startsWith(SECRET_PREFIX)) throw new WebhookSecretError('a webhook secret starts with whsec_');
  const b64 = secret.slice(SECRET_PREFIX.length);
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(b64)) throw new WebhookSecretError('a webhook secret is whsec_ followed by base64');
  const bytes = Buffer.from(b64, 'base64');
  if (bytes.length < 16) throw new WebhookSecretError('a webhook secret decodes to at least 16 bytes');
  return bytes;
}

/** The raw HMAC over id.timestamp.body; body is bytes (a string is taken as its UTF-8 bytes). */
export function signatureBytes(secret: string, id: string, timestampS: number, body: Uint8Array | string): Buffer {
  const hmac = createHmac('sha256', secretBytes(secret));
  hmac.update(`${id}.${timestampS}.`, 'utf8');
  hmac.update(typeof body === 'string' ? Buffer.from(body, 'utf8') : body);
  return hmac.digest();
}

/** The webhook-signature header value: one `v1,<base64>` per secret, space separated. */
export function signatureHeader(secrets: readonly string[], id: string, timestampS: number, body: Uint8Array | string): string {
  return secrets.map((s) => `${SIGNATURE_VERSION},${signatureBytes(s, id, timestampS, body).toString('base64')}`).join(' ');
}
