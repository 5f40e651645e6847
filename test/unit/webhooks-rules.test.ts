// Pure webhook rules: the retry schedule, Retry-After, sealed secrets and the SSRF address list.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { ATTEMPTS_MAX, delayBeforeAttemptMs, JITTER_FRACTION, nextDelayMs, parseRetryAfterMs, RETRY_DELAYS_MS, SCHEDULE_TOTAL_MS } from '../../workflows/rules/retry-schedule.js';
import { openSecret, parseMasterKey, sealSecret } from '../../activities/webhooks/secret-box.js';
import { isForbiddenAddress, parseEndpointUrl, resolveTarget, urlPolicy } from '../../activities/webhooks/url-guard.js';
import { subscriptionKeys } from '../../activities/webhooks/endpoints.js';
import { testConfig } from '../harness.js';

describe('webhook rules', () => {
  it('the schedule is immediately, 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 14 h, 20 h, 24 h: about three days', () => {
    assert.deepEqual(RETRY_DELAYS_MS.map((ms) => ms / 1000), [0, 5, 300, 1800, 7200, 18000, 36000, 50400, 72000, 86400]);
    assert.equal(ATTEMPTS_MAX, 10);
    assert.ok(SCHEDULE_TOTAL_MS > 3 * 86_400_000 && SCHEDULE_TOTAL_MS < 3.2 * 86_400_000);
    for (let a = 1; a <= ATTEMPTS_MAX; a++) {
      const base = RETRY_DELAYS_MS[a - 1]!;
      const lo = delayBeforeAttemptMs(a, 0);
      const hi = delayBeforeAttemptMs(a, 0.999999);
      assert.ok(lo >= base * (1 - JITTER_FRACTION) - 1 && hi <= base * (1 + JITTER_FRACTION) + 1);
    }
    assert.equal(nextDelayMs(ATTEMPTS_MAX, 0.5, null), undefined);
    assert.throws(() => delayBeforeAttemptMs(ATTEMPTS_MAX + 1, 0.5), RangeError);
  });

  it('Retry-After as seconds or an HTTP date replaces the next delay, bounded to 1 s .. 24 h', () => {
    const now = Date.parse('2026-11-26T00:00:00Z');
    assert.equal(parseRetryAfterMs('120', now), 120_000);
    assert.equal(parseRetryAfterMs('Thu, 26 Nov 2026 00:01:00 GMT', now), 60_000);
    assert.equal(parseRetryAfterMs('soon', now), null);
    assert.equal(parseRetryAfterMs(null, now), null);
    assert.equal(nextDelayMs(1, 0.5, 120_000), 120_000);
    assert.equal(nextDelayMs(1, 0.5, 0), 1_000);
    assert.equal(nextDelayMs(1, 0.5, 10 * 86_400_000), 86_400_000);
  });

  it('a sealed secret opens only with its master key and for its own endpoint', () => {
    const key = randomBytes(32);
    const sealed = sealSecret(key, 'whsec_abc', 'we_1');
    assert.ok(!sealed.includes('whsec_abc'));
    assert.equal(openSecret(key, sealed, 'we_1'), 'whsec_abc');
    assert.throws(() => openSecret(key, sealed, 'we_2'));
    assert.throws(() => openSecret(randomBytes(32), sealed, 'we_1'));
    assert.equal(parseMasterKey(key.toString('hex')).toString('hex'), key.toString('hex'));
    assert.equal(parseMasterKey(key.toString('base64')).toString('hex'), key.toString('hex'));
    assert.throws(() => parseMasterKey('short'));
  });

  it('live refuses loopback, private, link-local, CGNAT and metadata addresses, IPv4-mapped ones included', () => {
    for (const a of ['127.0.0.1', '10.1.2.3', '172.16.5.4', '192.168.1.1', '169.254.169.254', '100.64.0.1', '100.100.100.200', '0.0.0.0', '::1', '::', 'fe80::1', 'fd00::1', 'fd00:ec2::254', '::ffff:127.0.0.1', '::ffff:10.0.0.1']) {
      assert.equal(isForbiddenAddress(a), true, a);
    }
    for (const a of ['93.184.216.34', '8.8.8.8', '2606:4700:4700::1111', '::ffff:8.8.8.8']) assert.equal(isForbiddenAddress(a), false, a);
    // Sandbox's private allowance covers loopback and private networks, never metadata.
    for (const a of ['127.0.0.1', '10.1.2.3', '::1']) assert.equal(isForbiddenAddress(a, { allowPrivate: true }), false, a);
    for (const a of ['169.254.169.254', '100.100.100.200', 'fd00:ec2::254', 'fe80::1', '::ffff:169.254.169.254']) assert.equal(isForbiddenAddress(a, { allowPrivate: true }), true, a);
  });

  it('the URL policy: live needs https and a public address; sandbox allows a loopback receiver unless the operator turns it off', async () => {
    const config = testConfig();
    const live = urlPolicy('live', config);
    const sandbox = urlPolicy('sandbox', config);
    assert.throws(() => parseEndpointUrl('http://93.184.216.34/hook', live), /https/);
    await assert.rejects(resolveTarget(parseEndpointUrl('https://localhost/hook', live), live), /may not reach/);
    await assert.rejects(resolveTarget(parseEndpointUrl('https://[::1]/hook', live), live), /may not reach/);
    assert.equal((await resolveTarget(parseEndpointUrl('https://93.184.216.34/hook', live), live)).address, '93.184.216.34');
    assert.equal((await resolveTarget(parseEndpointUrl('http://127.0.0.1:9/hook', sandbox), sandbox)).address, '127.0.0.1');
    await assert.rejects(resolveTarget(parseEndpointUrl('http://169.254.169.254/latest/meta-data', sandbox), sandbox), /may not reach/);
    const locked = urlPolicy('sandbox', testConfig('http://127.0.0.1:0', { webhooks: { sandbox_allow_private_urls: false } }));
    assert.throws(() => parseEndpointUrl('http://127.0.0.1:9/hook', locked), /https/);
    await assert.rejects(resolveTarget(parseEndpointUrl('https://127.0.0.1:9/hook', locked), locked), /may not reach/);
    assert.throws(() => parseEndpointUrl('https://user:pw@example.com/', live), /credentials/);
    assert.throws(() => parseEndpointUrl('ftp://example.com/', live), /http or https/);
  });

  it('an event type matches `*`, its family wildcard and itself', () => {
    assert.deepEqual(subscriptionKeys('payment.confirmed'), ['*', 'payment.*', 'payment.confirmed']);
  });
});
