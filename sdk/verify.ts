// Verifying a Stablerail webhook on the receiving side: on the raw request bytes, with a
// timestamp tolerance both ways, against any of several secrets (during a rotation), in
// constant time. Anything else is rejected with a typed error.
import { timingSafeEqual } from 'node:crypto';
import { signatureBytes, secretBytes, SIGNATURE_VERSION } from './signature.js';

export const TOLERANCE_S_DEFAULT = 300;
/** A header carries at most this many signatures; more is an attempt to make us work. */
export const SIGNATURES_PER_HEADER_MAX = 8;

export type WebhookVerificationCode =
  | 'header_missing'
  | 'timestamp_invalid'
  | 'timestamp_too_old'
  | 'timestamp_too_new'
  | 'signature_invalid'
  | 'signature_mismatch'
  | 'secret_invalid'
  | 'payload_invalid'
  | 'replayed';

export class WebhookVerificationError extends Error {
  override name = 'WebhookVerificationError';
  constructor(
    readonly code: WebhookVerificationCode,
    message: string,
  ) {
    super(message);
  }
}

export interface WebhookEvent<T = Record<string, unknown>> {
  id: string;
  type: string;
  created_at: string;
  sequence: number;
  data: T;
}

/** Remembers webhook ids already accepted, so a replay inside the tolerance is refused too. */
export interface ReplayStore {
  has(id: string): boolean;
  add(id: string): void;
}

/** A bounded in-memory ReplayStore (oldest forgotten first); use a shared store across processes. */
export class MemoryReplayStore implements ReplayStore {
  private readonly ids = new Set<string>();
  constructor(private readonly entriesMax = 100_000) {}
  has(id: string): boolean {
    return this.ids.has(id);
  }
  add(id: string): void {
    this.ids.add(id);
    if (this.ids.size > this.entriesMax) this.ids.delete(this.ids.values().next().value as string);
  }
}

export interface VerifyOptions {
  toleranceS?: number;
  /** Seconds since the epoch; for tests. */
  nowS?: number;
  replayStore?: ReplayStore;
}

type HeaderBag = Record<string, string | string[] | undefined> | Headers;

function header(headers: HeaderBag, name: string): string | undefined {
  if (typeof (headers as Headers).get === 'function') return (headers as Headers).get(name) ?? undefined;
  const bag = headers as Record<string, string | string[] | undefined>;
  const v = bag[name] ?? Object.entries(bag).find(([k]) => k.toLowerCase() === name)?.[1];
  return Array.isArray(v) ? v[0] : v;
}

/**
 * Verify and parse a delivery. rawBody must be the bytes as received (express.raw, not a
 * re-serialized object). secrets: every secret currently valid for the endpoint.
 */
export function verifyWebhook<T = Record<string, unknown>>(
  rawBody: Uint8Array | string,
  headers: HeaderBag,
  secrets: string | readonly string[],
  options: VerifyOptions = {},
): WebhookEvent<T> {
  const id = header(headers, 'webhook-id');
  const ts = header(headers, 'webhook-timestamp');
  const sig = header(headers, 'webhook-signature');
  if (!id || !ts || !sig) throw new WebhookVerificationError('header_missing', 'webhook-id, webhook-timestamp and webhook-signature are required');
  if (!/^[0-9]{1,12}$/.test(ts)) throw new WebhookVerificationError('timestamp_invalid', 'webhook-timestamp must be whole seconds since the epoch');
  const timestampS = Number(ts);
  const toleranceS = options.toleranceS ?? TOLERANCE_S_DEFAULT;
  const nowS = options.nowS ?? Math.floor(Date.now() / 1000);
  if (timestampS < nowS - toleranceS) throw new WebhookVerificationError('timestamp_too_old', 'webhook-timestamp is older than the tolerance');
  if (timestampS > nowS + toleranceS) throw new WebhookVerificationError('timestamp_too_new', 'webhook-timestamp is further in the future than the tolerance');

  const offered: Buffer[] = [];
  for (const part of sig.split(' ').slice(0, SIGNATURES_PER_HEADER_MAX)) {
    const [version, value] = part.split(',', 2);
    // Other versions (v1a, asymmetric) are skipped, not failed: a sender may add them later.
    if (version === SIGNATURE_VERSION && value) offered.push(Buffer.from(value, 'base64'));
  }
  if (offered.length === 0) throw new WebhookVerificationError('signature_invalid', 'webhook-signature carries no v1 signature');

  const list = typeof secrets === 'string' ? [secrets] : secrets;
  if (list.length === 0) throw new WebhookVerificationError('secret_invalid', 'at least one secret is required');
  let matched = false;
  for (const secret of list) {
    try {
      secretBytes(secret);
    } catch (err) {
      throw new WebhookVerificationError('secret_invalid', (err as Error).message);
    }
    const expected = signatureBytes(secret, id, timestampS, rawBody);
    // Every pair is compared, even after a match, so timing says nothing about which one matched.
    for (const o of offered) if (o.length === expected.length && timingSafeEqual(o, expected)) matched = true;
  }
  if (!matched) throw new WebhookVerificationError('signature_mismatch', 'no signature matches any of the secrets');
  if (options.replayStore?.has(id)) throw new WebhookVerificationError('replayed', `webhook ${id} was already accepted`);

  let event: WebhookEvent<T>;
  try {
    event = JSON.parse(typeof rawBody === 'string' ? rawBody : Buffer.from(rawBody).toString('utf8'));
  } catch {
    throw new WebhookVerificationError('payload_invalid', 'the body is not JSON');
  }
  if (typeof event !== 'object' || event === null || event.id !== id) {
    throw new WebhookVerificationError('payload_invalid', 'the body does not carry the signed webhook id');
  }
  options.replayStore?.add(id);
  return event;
}
