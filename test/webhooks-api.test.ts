// The webhook endpoints API and automatic delivery, against the real stack: PostgreSQL,
// Temporal, the payment and webhook workers, the API over HTTP and a loopback receiver.
import assert from 'node:assert/strict';
import { Worker } from '@temporalio/worker';
import { WorkflowNotFoundError } from '@temporalio/client';
import { admin, api, eventually, h, newMerchant, newOperator } from './harness.js';
import { startReceiver, type Receiver } from './webhook-receiver.js';
import { StablerailApiError, StablerailClient, verifyWebhook, WebhookVerificationError } from '../sdk/index.js';
import { createApiKey, SCOPES } from '../activities/merchant.js';
import { openSecret } from '../activities/webhooks/secret-box.js';
import { createWebhookDeliveryActivities } from '../activities/webhooks/delivery.js';
import { insertDeliveries } from '../activities/webhooks/delivery.js';
import { newId } from '../activities/ids.js';
import { startLanes } from '../api/webhook-commands.js';
import { laneIdFor } from '../workflows/webhook-shared.js';

const clientFor = (key: string) => new StablerailClient({ apiKey: key, baseUrl: h().stack.apiUrl });

async function payAndCancel(c: StablerailClient, ref: string) {
  const p = await c.createPayment({ amount: '5.00', rail: 'usdt-erc20', reference: ref });
  await c.cancelPayment(p.id, `${ref}-cancel`);
  return p.id as string;
}

function bodies(r: Receiver) {
  return r.received.map((x) => JSON.parse(x.raw.toString()));
}

describe('webhook endpoints API and delivery (real stack)', () => {
  let rcv: Receiver;
  afterEach(async () => rcv?.close());

  it('registers an endpoint: whsec_ secret shown once, sealed at rest, per merchant (404 for another), scope webhooks:manage', async () => {
    rcv = await startReceiver();
    const m = await newMerchant();
    const created = await api('POST', '/v1/webhook_endpoints', { key: m.key, body: { url: rcv.url, enabled_events: ['payment.*'] }, idem: 'we-1' });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    assert.match(created.body.id, /^we_/);
    assert.match(created.body.secret, /^whsec_[A-Za-z0-9+/]{32}$/);
    assert.deepEqual(created.body.enabled_events, ['payment.*']);
    assert.equal(created.body.status, 'enabled');
    // The replay of the same request answers the same endpoint without the secret.
    const replay = await api('POST', '/v1/webhook_endpoints', { key: m.key, body: { url: rcv.url, enabled_events: ['payment.*'] }, idem: 'we-1' });
    assert.equal(replay.body.id, created.body.id);
    assert.equal(replay.body.secret, null);
    const got = await api('GET', `/v1/webhook_endpoints/${created.body.id}`, { key: m.key });
    assert.equal(got.status, 200);
    assert.equal(got.body.secret, undefined);
    const { rows } = await h().stack.pool.query(`SELECT secret_ciphertext FROM webhook_secrets WHERE endpoint_id = $1`, [created.body.id]);
    assert.equal(rows.length, 1);
    assert.ok(!rows[0].secret_ciphertext.includes(created.body.secret.slice(6)));
    assert.equal(openSecret(h().masterKey, rows[0].secret_ciphertext, created.body.id), created.body.secret);
    const { rows: idem } = await h().stack.pool.query(`SELECT response_body::text AS b FROM idempotency_keys WHERE key = 'we-1'`);
    assert.ok(!idem[0].b.includes(created.body.secret), 'the idempotency record never keeps the secret');

    // Update: new URL and events pass the same checks; disabling and enabling are recorded.
    const moved = await clientFor(m.key).updateWebhookEndpoint(created.body.id, { url: `${rcv.url}/v2`, enabled_events: ['payment.confirmed'] });
    assert.equal(moved.url, `${rcv.url}/v2`);
    assert.deepEqual(moved.enabled_events, ['payment.confirmed']);
    const off = await clientFor(m.key).updateWebhookEndpoint(created.body.id, { disabled: true });
    assert.equal(off.status, 'disabled');
    assert.equal(off.disabled_reason, 'disabled_by_merchant');
    assert.equal((await clientFor(m.key).updateWebhookEndpoint(created.body.id, { disabled: false })).status, 'enabled');
    const badMove = await api('POST', `/v1/webhook_endpoints/${created.body.id}`, { key: m.key, body: { url: 'ftp://example.com' } });
    assert.equal(badMove.body.error.code, 'url_invalid');
    assert.equal((await api('POST', `/v1/webhook_endpoints/${created.body.id}`, { key: m.key, body: {} })).status, 400);

    const defaults = await clientFor(m.key).createWebhookEndpoint({ url: rcv.url });
    assert.deepEqual(defaults.enabled_events, ['*']);
    const list = await clientFor(m.key).listWebhookEndpoints({ limit: 1 });
    assert.equal(list.data.length, 1);
    assert.equal(list.has_more, true);

    const other = await newMerchant();
    for (const path of [`/v1/webhook_endpoints/${created.body.id}`, `/v1/webhook_endpoints/${created.body.id}/deliveries`]) {
      const r = await api('GET', path, { key: other.key });
      assert.equal(r.status, 404);
      assert.equal(r.body.error.code, 'resource_missing');
    }
    assert.equal((await api('POST', `/v1/webhook_endpoints/${created.body.id}/rotate_secret`, { key: other.key, body: {} })).status, 404);
    assert.equal((await api('POST', `/v1/webhook_endpoints/${created.body.id}`, { key: other.key, body: { disabled: true } })).status, 404);
    assert.equal((await api('GET', '/v1/webhook_endpoints', { key: other.key })).body.data.length, 0);
    const narrow = await newMerchant({ scopes: ['payments:read'] });
    const forbidden = await api('GET', '/v1/webhook_endpoints', { key: narrow.key });
    assert.equal(forbidden.status, 403);
    const bad = await api('POST', '/v1/webhook_endpoints', { key: m.key, body: { url: rcv.url, enabled_events: ['not a type'] } });
    assert.equal(bad.status, 400);
    // A misspelled type would subscribe to nothing, silently: refused, naming what exists, and nothing is written.
    const before = (await h().stack.pool.query(`SELECT count(*)::int AS n FROM webhook_endpoints WHERE merchant_id = $1`, [m.merchantId])).rows[0].n;
    for (const events of [['payment.confirm'], ['foo.*'], ['payment.created', 'invoice.paid']]) {
      const typo = await api('POST', '/v1/webhook_endpoints', { key: m.key, body: { url: rcv.url, enabled_events: events } });
      assert.equal(typo.status, 400, JSON.stringify(typo.body));
      assert.equal(typo.body.error.code, 'parameter_invalid');
      assert.match(typo.body.error.param, /^enabled_events\.\d$/);
      assert.match(typo.body.error.message, /payment\.confirmed/);
    }
    assert.equal((await api('POST', `/v1/webhook_endpoints/${created.body.id}`, { key: m.key, body: { enabled_events: ['payment.confirm'] } })).body.error.code, 'parameter_invalid');
    assert.equal((await h().stack.pool.query(`SELECT count(*)::int AS n FROM webhook_endpoints WHERE merchant_id = $1`, [m.merchantId])).rows[0].n, before);
    assert.equal((await api('GET', '/v1/events?type=payment.confirm', { key: m.key })).body.error.code, 'parameter_invalid');
    // The scheme of Authorization is case-insensitive.
    assert.equal((await api('GET', '/v1/webhook_endpoints', { headers: { authorization: `bearer ${m.key}` } })).status, 200);
    const badUrl = await api('POST', '/v1/webhook_endpoints', { key: m.key, body: { url: 'ftp://example.com' } });
    assert.equal(badUrl.body.error.code, 'url_invalid');
  });

  it('delivers every payment event to a loopback receiver, signed so the SDK verifies each, with the attempt logged', async function () {
    this.timeout(30_000);
    rcv = await startReceiver();
    const m = await newMerchant();
    const c = clientFor(m.key);
    const ep = await c.createWebhookEndpoint({ url: rcv.url });
    const only = await c.createWebhookEndpoint({ url: `${rcv.url}?only-canceled`, enabled_events: ['payment.canceled'] });
    const payId = await payAndCancel(c, 'wh-deliver-1');
    await eventually(async () => rcv.received.length >= 3, 20_000);
    const all = rcv.received.filter((r) => !r.path.includes('only-canceled'));
    const onlyCanceled = rcv.received.filter((r) => r.path.includes('only-canceled'));
    assert.deepEqual(all.map((r) => verifyWebhook(r.raw, r.headers, ep.secret!).type).sort(), ['payment.canceled', 'payment.created']);
    assert.deepEqual(onlyCanceled.map((r) => verifyWebhook(r.raw, r.headers, only.secret!).type), ['payment.canceled']);
    assert.throws(() => verifyWebhook(onlyCanceled[0]!.raw, onlyCanceled[0]!.headers, ep.secret!), WebhookVerificationError);
    for (const r of all) {
      const e = JSON.parse(r.raw.toString());
      assert.deepEqual(Object.keys(e), ['id', 'type', 'created_at', 'sequence', 'data']);
      assert.equal(r.headers['webhook-id'], e.id);
      assert.equal(e.data.id, payId);
      assert.equal(e.sequence, e.type === 'payment.created' ? 1 : 2);
    }
    const events = await c.listEvents({ object_id: payId });
    assert.deepEqual(new Set(events.data.map((e) => e.id)), new Set(all.map((r) => r.headers['webhook-id'])));

    const deliveries = await eventually(async () => {
      const d = await c.listDeliveries(ep.id);
      return d.data.length === 2 && d.data.every((x) => x.status === 'succeeded') ? d : null;
    });
    for (const d of deliveries.data) {
      assert.equal(d.attempt_count, 1);
      assert.equal(d.attempts.length, 1);
      const a = d.attempts[0];
      assert.equal(a.response_status, 200);
      assert.equal(a.response_body_excerpt, 'ok');
      assert.equal(typeof a.latency_ms, 'number');
      assert.equal(a.request_headers['webhook-id'], d.event_id);
      assert.match(a.request_headers['webhook-signature'], /^v1,/);
    }
    // Delivered by the first attempts the recording activities made: no delivery workflow, no
    // lane, and no child started by the payment (a healthy endpoint costs Temporal nothing more).
    for (const d of deliveries.data) {
      await assert.rejects(h().stack.client.workflow.getHandle(d.id).describe(), (e: unknown) => e instanceof WorkflowNotFoundError);
    }
    await assert.rejects(h().stack.client.workflow.getHandle(laneIdFor(payId, ep.id)).describe(), (e: unknown) => e instanceof WorkflowNotFoundError);
    const history = await h().stack.client.workflow.getHandle(payId).fetchHistory();
    assert.equal(history.events!.filter((e) => e.startChildWorkflowExecutionInitiatedEventAttributes).length, 0);
    // The payment's history replays against the current code.
    await Worker.runReplayHistory({ workflowBundle: h().bundle }, history, payId);
  });

  it('rotation mid-stream: a verifier holding both secrets drops nothing; during the overlap both signatures are sent', async function () {
    this.timeout(60_000);
    rcv = await startReceiver();
    const m = await newMerchant();
    const c = clientFor(m.key);
    const ep = await c.createWebhookEndpoint({ url: rcv.url });
    const PAYMENTS = 6;
    let rotated: Awaited<ReturnType<StablerailClient['rotateWebhookSecret']>> | null = null;
    const work: Promise<string>[] = [];
    for (let i = 0; i < PAYMENTS; i++) {
      work.push(payAndCancel(c, `wh-rot-${i}`));
      if (i === 2) rotated = await c.rotateWebhookSecret(ep.id, { overlap_s: 3600 });
    }
    await Promise.all(work);
    assert.match(rotated!.secret, /^whsec_/);
    assert.notEqual(rotated!.secret, ep.secret);
    assert.ok(rotated!.previous_secret_expires_at && Date.parse(rotated!.previous_secret_expires_at) > Date.now() + 3000_000);
    await eventually(async () => new Set(rcv.received.map((r) => r.headers['webhook-id'])).size >= PAYMENTS * 2, 30_000);
    const both = [ep.secret!, rotated!.secret];
    const verified = rcv.received.map((r) => verifyWebhook(r.raw, r.headers, both));
    assert.equal(new Set(verified.map((e) => e.id)).size, PAYMENTS * 2);
    const dual = rcv.received.filter((r) => String(r.headers['webhook-signature']).split(' ').length === 2);
    assert.ok(dual.length > 0, 'deliveries after the rotation carry two signatures');
    for (const r of dual) {
      // Either secret alone verifies during the overlap: old verifiers and new ones both keep working.
      verifyWebhook(r.raw, r.headers, ep.secret!);
      verifyWebhook(r.raw, r.headers, rotated!.secret);
    }
    // With no overlap, the old secret stops at once.
    const hard = await c.rotateWebhookSecret(ep.id, { overlap_s: 0 });
    await payAndCancel(c, 'wh-rot-after');
    await eventually(async () => new Set(rcv.received.map((r) => r.headers['webhook-id'])).size >= PAYMENTS * 2 + 2, 20_000);
    const last = rcv.received.at(-1)!;
    assert.equal(String(last.headers['webhook-signature']).split(' ').length, 1);
    verifyWebhook(last.raw, last.headers, hard.secret);
    assert.throws(() => verifyWebhook(last.raw, last.headers, [ep.secret!, rotated!.secret]), WebhookVerificationError);
  });

  it('410 disables the endpoint with an operator-visible event; recover re-enables it and resends what it missed; redeliver resends one event', async function () {
    this.timeout(60_000);
    let gone = true;
    rcv = await startReceiver(() => (gone ? { status: 410, body: 'gone' } : { status: 200 }));
    const m = await newMerchant();
    const c = clientFor(m.key);
    const since = new Date(Date.now() - 1000).toISOString();
    const ep = await c.createWebhookEndpoint({ url: rcv.url });
    const first = await c.createPayment({ amount: '1.00', rail: 'usdt-erc20', reference: 'wh-410' });
    const disabled = await eventually(async () => {
      const e = await c.getWebhookEndpoint(ep.id);
      return e.status === 'disabled' ? e : null;
    });
    assert.equal(disabled.disabled_reason, 'gone');
    assert.equal(rcv.received.length, 1, 'nothing more is sent after 410');
    const evts = await c.listEvents({ type: 'webhook_endpoint.disabled' });
    assert.equal(evts.data.length, 1);
    assert.equal(evts.data[0]!.data.id, ep.id);
    const metrics = await api('GET', '/metrics');
    assert.match(metrics.body, /stablerail_webhook_endpoints\{environment="sandbox",status="disabled"\} [1-9]/);
    assert.match(metrics.body, /stablerail_webhook_deliveries_pending \d+/);
    const ops = await admin('GET', '/v1/admin/webhook_endpoints?status=disabled');
    assert.ok(ops.body.data.some((e: { id: string; disabled_reason: string }) => e.id === ep.id && e.disabled_reason === 'gone'));
    // While disabled, new events are not sent to it.
    // The cancel Update returns once the workflow has planned the event's deliveries: for a
    // disabled endpoint it planned none, so no delivery row and no delivery workflow exist.
    await c.cancelPayment(first.id, 'wh-410-cancel');
    const canceledEvent = (await h().stack.pool.query(`SELECT id FROM events WHERE object_id = $1 AND type = 'payment.canceled'`, [first.id])).rows[0];
    assert.ok(canceledEvent, 'payment.canceled was recorded');
    const planned = await h().stack.pool.query(`SELECT id FROM webhook_deliveries WHERE event_id = $1 AND endpoint_id = $2`, [canceledEvent.id, ep.id]);
    assert.deepEqual(planned.rows, []);
    await assert.rejects(h().stack.client.workflow.getHandle(`whd_${canceledEvent.id}_${ep.id}`).describe(), (e: unknown) => e instanceof WorkflowNotFoundError);
    assert.equal(rcv.received.length, 1);

    gone = false;
    // The first resend of payment.created fails: the endpoint keeps order, so payment.canceled
    // (sequence 2) waits behind it in the payment's lane until its retry (5 s) succeeds.
    rcv.reply = (r) => {
      const e = JSON.parse(r.raw.toString());
      const tries = rcv.received.filter((x) => x.headers['webhook-id'] === e.id).length;
      return e.type === 'payment.created' && tries === 2 ? { status: 500 } : { status: 200 };
    };
    const rec = await c.recoverWebhookEndpoint(ep.id, { since }, 'wh-410-recover');
    assert.equal(rec.resent, 2);
    assert.equal((await c.getWebhookEndpoint(ep.id)).status, 'enabled');
    await eventually(async () => rcv.received.length >= 4, 30_000);
    const got = bodies(rcv).slice(1).map((e) => e.type);
    assert.deepEqual(got, ['payment.created', 'payment.created', 'payment.canceled'], 'recovered in sequence order, the later event held behind the retried one');
    for (const r of rcv.received) verifyWebhook(r.raw, r.headers, ep.secret!);
    // One start from the API: the recovery's workflow wrote the rows and handed them to the payment's lane.
    const recHist = await h().stack.client.workflow.getHandle(rec.id).fetchHistory();
    const recActivities = (recHist.events ?? []).map((e) => e.activityTaskScheduledEventAttributes?.activityType?.name).filter(Boolean);
    assert.deepEqual(recActivities, ['recordRecovery']);
    const laneStarts = (recHist.events ?? []).map((e) => e.startChildWorkflowExecutionInitiatedEventAttributes?.workflowId).filter(Boolean);
    assert.deepEqual(laneStarts, [`whl_${first.id}_${ep.id}`]);
    // Recovering again resends nothing: both reached it.
    const none = await c.recoverWebhookEndpoint(ep.id, { since }, 'wh-410-recover-2');
    assert.equal(none.resent, 0);
    // The same recovery request replayed starts nothing new.
    const again = await c.recoverWebhookEndpoint(ep.id, { since }, 'wh-410-recover');
    assert.equal(again.id, rec.id);

    const createdEvent = bodies(rcv).find((e) => e.type === 'payment.created');
    const red = await c.redeliverEvent(createdEvent.id, { endpoint_id: ep.id });
    assert.equal(red.data.length, 1);
    await eventually(async () => rcv.received.length >= 5);
    // The API wrote no row: the redelivery's own workflow wrote it before its first attempt.
    const redHist = await h().stack.client.workflow.getHandle(red.data[0]!.id).fetchHistory();
    const scheduled = (redHist.events ?? []).map((e) => e.activityTaskScheduledEventAttributes?.activityType?.name).filter(Boolean);
    assert.deepEqual(scheduled.slice(0, 2), ['recordDelivery', 'attemptDelivery']);
    const dup = rcv.received.at(-1)!;
    assert.equal(dup.headers['webhook-id'], createdEvent.id, 'a redelivery carries the same webhook-id');
    verifyWebhook(dup.raw, dup.headers, ep.secret!);
    const other = clientFor((await newMerchant()).key);
    await assert.rejects(other.redeliverEvent(createdEvent.id), (e: unknown) => e instanceof StablerailApiError && e.status === 404);
    // Support resends it for the merchant: an operator (not a viewer), recorded as evidence.
    const viewer = await newOperator('viewer', 'wh-viewer');
    const refused = await viewer.call('POST', `/v1/admin/events/${createdEvent.id}/redeliver`, { endpoint_id: ep.id });
    assert.equal(refused.status, 403);
    assert.equal(refused.body.error.code, 'role_forbidden');
    assert.equal((await admin('POST', '/v1/admin/events/evt_000000000000000000000000/redeliver', {})).body.error.code, 'resource_missing');
    const support = await newOperator('operator', 'wh-support');
    const byOp = await support.call('POST', `/v1/admin/events/${createdEvent.id}/redeliver`, { endpoint_id: ep.id });
    assert.equal(byOp.status, 200, JSON.stringify(byOp.body));
    assert.equal(byOp.body.data.length, 1);
    await eventually(async () => rcv.received.length >= 6);
    verifyWebhook(rcv.received.at(-1)!.raw, rcv.received.at(-1)!.headers, ep.secret!);
    assert.equal(rcv.received.at(-1)!.headers['webhook-id'], createdEvent.id);
    const ev = await h().stack.pool.query(`SELECT actor, payload FROM evidence WHERE kind = 'webhook.redelivery_requested' AND subject = $1`, [createdEvent.id]);
    assert.equal(ev.rows.length, 1);
    assert.match(ev.rows[0].actor, new RegExp(`^${support.id}@otk_`));
    assert.deepEqual(ev.rows[0].payload.deliveries, [byOp.body.data[0].id]);
    // A deleted endpoint gets nothing resent, and the answer says so.
    const deleted = await c.createWebhookEndpoint({ url: rcv.url });
    await api('DELETE', `/v1/webhook_endpoints/${deleted.id}`, { key: m.key });
    const toDeleted = await api('POST', `/v1/events/${createdEvent.id}/redeliver`, { key: m.key, body: { endpoint_id: deleted.id } });
    assert.equal(toDeleted.status, 409);
    assert.equal(toDeleted.body.error.code, 'endpoint_deleted');
    const kinds = (await c.listDeliveries(ep.id, { limit: 10 })).data.map((d) => d.kind).sort();
    // No automatic delivery for the event that happened while the endpoint was disabled.
    assert.deepEqual(kinds, ['automatic', 'recovery', 'recovery', 'redelivery', 'redelivery']);
  });

  it('a payment that ends never cancels its pending delivery (ABANDON): its lane retries after the payment closed; a lane started again sends nothing twice', async function () {
    this.timeout(40_000);
    // The canceled event's first attempt gets 429 Retry-After 8: its retry falls after the payment workflow has closed (monitor_after_close_s is 5 in tests).
    rcv = await startReceiver((r) => {
      const e = JSON.parse(r.raw.toString());
      const firstTry = rcv.received.filter((x) => x.headers['webhook-id'] === e.id).length === 1;
      return e.type === 'payment.canceled' && firstTry ? { status: 429, headers: { 'retry-after': '8' } } : { status: 200 };
    });
    const m = await newMerchant();
    const c = clientFor(m.key);
    const ep = await c.createWebhookEndpoint({ url: rcv.url });
    const payId = await payAndCancel(c, 'wh-abandon');
    const temporal = h().stack.client;
    const closed = await eventually(async () => {
      const d = await temporal.workflow.getHandle(payId).describe();
      return d.status.name === 'COMPLETED' ? d : null;
    }, 20_000, 250);
    const canceledEvent = (await c.listEvents({ object_id: payId, type: 'payment.canceled' })).data[0]!;
    const deliveryId = `whd_${canceledEvent.id}_${ep.id}`;
    // Attempt 1 was made by the activity that recorded the cancel; the retry belongs to the lane, a child of the payment.
    const lane = temporal.workflow.getHandle(laneIdFor(payId, ep.id));
    const pending = await lane.describe();
    assert.equal(pending.parentExecution?.workflowId, payId);
    assert.equal(pending.taskQueue, 'stablerail-webhooks');
    assert.equal(pending.status.name, 'RUNNING', 'the lane outlives its parent');
    const result = await lane.result();
    assert.deepEqual(result, { objectId: payId, endpointId: ep.id, attempts: 1 });
    assert.ok(closed.closeTime! < (await lane.describe()).closeTime!);
    const statuses = await h().stack.pool.query(`SELECT attempt, response_status FROM webhook_attempts WHERE delivery_id = $1 ORDER BY attempt`, [deliveryId]);
    assert.deepEqual(statuses.rows.map((a) => [a.attempt, a.response_status]), [[1, 429], [2, 200]]);

    // The lane started again (a retried hand-off) finds nothing pending and sends nothing.
    const before = rcv.received.length;
    await startLanes(temporal, [{ deliveryId, eventId: canceledEvent.id, endpointId: ep.id, objectId: payId, sequence: 2, ordering: 'sequence' }]);
    assert.deepEqual(await lane.result(), { objectId: payId, endpointId: ep.id, attempts: 0 });
    const attempts = await h().stack.pool.query(`SELECT attempt FROM webhook_attempts WHERE delivery_id = $1 ORDER BY attempt`, [deliveryId]);
    assert.deepEqual(attempts.rows.map((a) => a.attempt), [1, 2]);
    assert.equal(rcv.received.length, before);
  });

  it('live: https only, private and metadata addresses refused at registration and again at send time', async function () {
    this.timeout(20_000);
    rcv = await startReceiver();
    const m = await newMerchant();
    await h().stack.pool.query(`INSERT INTO rail_enablements (merchant_id, environment, rail_id, enabled_by) VALUES ($1, 'live', 'usdt-erc20', 'test')`, [m.merchantId]);
    const live = await createApiKey(h().stack.pool, m.merchantId, 'live', [...SCOPES], 'test');
    const cases: Array<[string, string]> = [
      [rcv.url, 'url_insecure'],
      [rcv.url.replace('http:', 'https:'), 'url_forbidden'],
      ['https://localhost/hook', 'url_forbidden'],
      ['https://169.254.169.254/latest/meta-data', 'url_forbidden'],
      ['https://10.0.0.8/hook', 'url_forbidden'],
      ['https://[::1]/hook', 'url_forbidden'],
    ];
    for (const [url, code] of cases) {
      const r = await api('POST', '/v1/webhook_endpoints', { key: live.secret, body: { url } });
      assert.equal(r.status, 400, url);
      assert.equal(r.body.error.code, code, url);
    }
    const ok = await api('POST', '/v1/webhook_endpoints', { key: live.secret, body: { url: 'https://93.184.216.34/hook' } });
    assert.equal(ok.status, 201);
    assert.equal(ok.body.livemode, true);
    // Environments are separate: the same merchant's sandbox key does not see the live endpoint.
    assert.equal((await api('GET', `/v1/webhook_endpoints/${ok.body.id}`, { key: m.key })).status, 404);
    assert.equal((await api('GET', '/v1/webhook_endpoints', { key: m.key })).body.data.length, 0);
    // A live endpoint whose address turned private after registration: the send-time check refuses it.
    await h().stack.pool.query(`UPDATE webhook_endpoints SET url = $2 WHERE id = $1`, [ok.body.id, rcv.url.replace('http:', 'https:')]);
    const evt = newId('evt');
    await h().stack.pool.query(
      `INSERT INTO events (id, merchant_id, environment, type, object_type, object_id, sequence, data) VALUES ($1, $2, 'live', 'payment.created', 'payment', $3, 1, '{}')`,
      [evt, m.merchantId, newId('pay')],
    );
    const deliveryId = `whd_${evt}_${ok.body.id}`;
    await insertDeliveries(h().stack.pool, [{ deliveryId, eventId: evt, endpointId: ok.body.id, kind: 'automatic' }]);
    const acts = createWebhookDeliveryActivities({ pool: h().stack.pool, config: h().config, masterKey: h().masterKey });
    const r = await acts.attemptDelivery({ deliveryId, eventId: evt, endpointId: ok.body.id, attempt: 1, jitterRand: 0.5 });
    assert.equal(r.outcome, 'failed');
    assert.match(r.error!, /^url_forbidden/);
    assert.equal(rcv.received.length, 0);
  });
});
