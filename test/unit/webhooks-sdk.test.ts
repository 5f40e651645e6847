// The SDK's verifyWebhook against the service's signer: what it accepts and what it refuses.
import assert from 'node:assert/strict';
import { generateSecret, MemoryReplayStore, signatureHeader, verifyWebhook, WebhookVerificationError, type WebhookVerificationCode } from '../../sdk/index.js';

const secret = generateSecret();
const body = Buffer.from(JSON.stringify({ id: 'evt_1', type: 'payment.confirmed', created_at: '2026-11-26T00:00:00.000Z', sequence: 3, data: { amount: '1.00' } }));
const nowS = 1_795_000_000;
const headersFor = (b: Buffer | string, ts = nowS, secrets = [secret], id = 'evt_1') => ({
  'webhook-id': id,
  'webhook-timestamp': String(ts),
  'webhook-signature': signatureHeader(secrets, id, ts, b),
});

function rejects(code: WebhookVerificationCode, fn: () => unknown) {
  assert.throws(fn, (e: unknown) => e instanceof WebhookVerificationError && e.code === code);
}

describe('webhook SDK: verifyWebhook', () => {
  it('matches the Standard Webhooks reference vector', () => {
    const header = signatureHeader(['whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw'], 'msg_p5jXN8AQM9LWM0D4loKWxJek', 1614265330, '{"test": 2432232314}');
    assert.equal(header, 'v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=');
  });

  it('accepts a genuine delivery on its raw bytes and returns the event', () => {
    const e = verifyWebhook(body, headersFor(body), secret, { nowS });
    assert.equal(e.id, 'evt_1');
    assert.equal(e.sequence, 3);
    assert.equal(e.type, 'payment.confirmed');
  });

  it('accepts any one of several secrets, and a header carrying several signatures', () => {
    const other = generateSecret();
    assert.equal(verifyWebhook(body, headersFor(body), [other, secret], { nowS }).id, 'evt_1');
    assert.equal(verifyWebhook(body, headersFor(body, nowS, [other, secret]), [secret], { nowS }).id, 'evt_1');
    assert.equal(verifyWebhook(body, headersFor(body, nowS, [other, secret]), [other], { nowS }).id, 'evt_1');
  });

  it('rejects a tampered body, id or timestamp', () => {
    const tampered = Buffer.from(body.toString().replace('1.00', '9.00'));
    rejects('signature_mismatch', () => verifyWebhook(tampered, headersFor(body), secret, { nowS }));
    // Re-serializing the parsed body (spaces) is also a different byte string: verify the raw bytes.
    const reserialized = JSON.stringify(JSON.parse(body.toString()), null, 1);
    rejects('signature_mismatch', () => verifyWebhook(reserialized, headersFor(body), secret, { nowS }));
    rejects('signature_mismatch', () => verifyWebhook(body, { ...headersFor(body), 'webhook-timestamp': String(nowS - 1) }, secret, { nowS }));
    rejects('signature_mismatch', () => verifyWebhook(body, { ...headersFor(body), 'webhook-id': 'evt_2' }, secret, { nowS }));
    rejects('signature_mismatch', () => verifyWebhook(body, headersFor(body), generateSecret(), { nowS }));
  });

  it('rejects a stale or future timestamp beyond the tolerance, both ways (default 300 s)', () => {
    assert.ok(verifyWebhook(body, headersFor(body, nowS - 300), secret, { nowS }));
    rejects('timestamp_too_old', () => verifyWebhook(body, headersFor(body, nowS - 301), secret, { nowS }));
    rejects('timestamp_too_new', () => verifyWebhook(body, headersFor(body, nowS + 301), secret, { nowS }));
    rejects('timestamp_too_old', () => verifyWebhook(body, headersFor(body, nowS - 61), secret, { nowS, toleranceS: 60 }));
    rejects('timestamp_invalid', () => verifyWebhook(body, { ...headersFor(body), 'webhook-timestamp': '17e8' }, secret, { nowS }));
  });

  it('rejects a replay: captured and resent later (stale), or resent at once to a receiver keeping a replay store', () => {
    const captured = headersFor(body);
    rejects('timestamp_too_old', () => verifyWebhook(body, captured, secret, { nowS: nowS + 3600 }));
    const store = new MemoryReplayStore(10);
    assert.ok(verifyWebhook(body, captured, secret, { nowS, replayStore: store }));
    rejects('replayed', () => verifyWebhook(body, captured, secret, { nowS, replayStore: store }));
  });

  it('rejects missing headers, malformed signatures, bad secrets and a body that does not carry the signed id', () => {
    rejects('header_missing', () => verifyWebhook(body, { 'webhook-id': 'evt_1' }, secret, { nowS }));
    rejects('signature_invalid', () => verifyWebhook(body, { ...headersFor(body), 'webhook-signature': 'v2,abc' }, secret, { nowS }));
    rejects('secret_invalid', () => verifyWebhook(body, headersFor(body), 'not-a-secret', { nowS }));
    rejects('secret_invalid', () => verifyWebhook(body, headersFor(body), [], { nowS }));
    const wrongId = Buffer.from(body.toString().replace('"evt_1"', '"evt_9"'));
    rejects('payload_invalid', () => verifyWebhook(wrongId, headersFor(wrongId), secret, { nowS }));
  });

  it('reads headers from a fetch Headers object as well as a Node header record', () => {
    const h = new Headers(headersFor(body));
    assert.equal(verifyWebhook(new Uint8Array(body), h, secret, { nowS }).id, 'evt_1');
  });
});
