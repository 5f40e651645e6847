// The endpoint lifecycle a merchant expects, on the real stack: DELETE ends pending deliveries
// and keeps the history; only enabled endpoints count toward the cap of 16; a disabled endpoint
// is announced to the merchant's other endpoints and shown to operators; recover re-enables.
import assert from 'node:assert/strict';
import { admin, api, eventually, h, newMerchant } from './harness.js';
import { startReceiver, type Receiver } from './webhook-receiver.js';
import { StablerailApiError, StablerailClient, verifyWebhook } from '../sdk/index.js';
import { ENDPOINTS_PER_MERCHANT_MAX } from '../activities/webhooks/endpoints.js';
import { laneIdFor } from '../workflows/webhook-shared.js';

const clientFor = (key: string) => new StablerailClient({ apiKey: key, baseUrl: h().stack.apiUrl });
const code = (c: string) => (e: unknown) => e instanceof StablerailApiError && e.code === c;

describe('webhook endpoint lifecycle (real stack)', () => {
  let rcv: Receiver | null = null;
  afterEach(async () => {
    await rcv?.close();
    rcv = null;
  });

  it('DELETE ends the pending deliveries (nothing more is sent) and keeps the endpoint, its deliveries and attempts readable', async function () {
    this.timeout(60_000);
    rcv = await startReceiver(() => ({ status: 503, headers: { 'retry-after': '3' } }));
    const m = await newMerchant();
    const c = clientFor(m.key);
    const ep = await c.createWebhookEndpoint({ url: rcv.url });
    const p = await c.createPayment({ amount: '3.00', rail: 'usdt-erc20', reference: 'wh-delete' });
    await eventually(async () => (await c.listDeliveries(ep.id)).data.find((d) => d.attempt_count >= 1), 20_000);
    const del = await c.deleteWebhookEndpoint(ep.id);
    const deletedAt = Date.now();
    assert.equal(del.deleted, true);
    assert.equal(del.status, 'deleted');
    // Its lane wakes, finds the endpoint deleted and ends without sending.
    const lane = await h().stack.client.workflow.getHandle(laneIdFor(p.id, ep.id)).result();
    assert.equal(lane.endpointId, ep.id);
    assert.ok(rcv.received.every((r) => r.at <= deletedAt), 'nothing was sent after DELETE answered');
    const d = (await c.listDeliveries(ep.id)).data;
    assert.equal(d.length, 1);
    assert.equal(d[0]!.status, 'canceled');
    assert.equal(d[0]!.last_error, 'endpoint_deleted');
    assert.ok(d[0]!.attempts.length >= 1, 'the attempts made before are kept');
    const got = await c.getWebhookEndpoint(ep.id);
    assert.equal(got.status, 'deleted');
    assert.ok(got.deleted_at);
    assert.equal((await c.listWebhookEndpoints()).data.length, 0, 'a deleted endpoint is not listed');
    await assert.rejects(c.updateWebhookEndpoint(ep.id, { description: 'x' }), code('endpoint_deleted'));
    await assert.rejects(c.recoverWebhookEndpoint(ep.id, { since: new Date(Date.now() - 60_000).toISOString() }), code('endpoint_deleted'));
    assert.equal((await c.deleteWebhookEndpoint(ep.id)).status, 'deleted', 'DELETE again answers the same');
    const ev = await h().stack.pool.query(`SELECT payload FROM evidence WHERE kind = 'webhook_endpoint.deleted' AND payload->>'endpoint_id' = $1`, [ep.id]);
    assert.equal(ev.rows.length, 1);
  });

  it('only enabled endpoints count toward the cap of 16: disabling one makes room, re-enabling past the cap is refused, deleting makes room again', async function () {
    this.timeout(60_000);
    rcv = await startReceiver();
    const m = await newMerchant();
    const c = clientFor(m.key);
    const eps = [];
    for (let i = 0; i < ENDPOINTS_PER_MERCHANT_MAX; i++) eps.push(await c.createWebhookEndpoint({ url: `${rcv.url}?n=${i}`, enabled_events: ['payment.*'] }));
    await assert.rejects(c.createWebhookEndpoint({ url: `${rcv.url}?n=over` }), code('endpoints_limit_reached'));
    await c.updateWebhookEndpoint(eps[0]!.id, { disabled: true });
    const extra = await c.createWebhookEndpoint({ url: `${rcv.url}?n=extra`, enabled_events: ['payment.*'] });
    assert.equal(extra.status, 'enabled');
    await assert.rejects(c.updateWebhookEndpoint(eps[0]!.id, { disabled: false }), code('endpoints_limit_reached'));
    assert.equal((await c.getWebhookEndpoint(eps[0]!.id)).status, 'disabled');
    await c.deleteWebhookEndpoint(eps[1]!.id);
    assert.equal((await c.updateWebhookEndpoint(eps[0]!.id, { disabled: false })).status, 'enabled');
  });

  it('a disabled endpoint is announced: webhook_endpoint.disabled reaches the merchant\'s other endpoints, operators see it, recover re-enables it', async function () {
    this.timeout(60_000);
    let gone = true;
    rcv = await startReceiver((r) => (r.path.includes('?a') && gone ? { status: 410 } : { status: 200 }));
    const m = await newMerchant();
    const c = clientFor(m.key);
    const a = await c.createWebhookEndpoint({ url: `${rcv.url}?a` });
    const b = await c.createWebhookEndpoint({ url: `${rcv.url}?b` });
    const since = new Date(Date.now() - 1000).toISOString();
    await c.createPayment({ amount: '4.00', rail: 'usdt-erc20', reference: 'wh-announce' });
    const notice = await eventually(async () => rcv!.received.find((r) => r.path.includes('?b') && JSON.parse(r.raw.toString()).type === 'webhook_endpoint.disabled'), 20_000);
    const e = verifyWebhook(notice.raw, notice.headers, b.secret!) as { type: string; data: { id: string; status: string; disabled_reason: string } };
    assert.deepEqual([e.type, e.data.id, e.data.status, e.data.disabled_reason], ['webhook_endpoint.disabled', a.id, 'disabled', 'gone']);
    assert.ok(!rcv.received.some((r) => r.path.includes('?a') && JSON.parse(r.raw.toString()).type === 'webhook_endpoint.disabled'), 'not to the disabled endpoint itself');
    const ops = await admin('GET', '/v1/admin/webhook_endpoints?status=disabled');
    assert.ok(ops.body.data.some((x: { id: string; disabled_reason: string; merchant_id: string }) => x.id === a.id && x.disabled_reason === 'gone' && x.merchant_id === m.merchantId));

    // Re-enabling through recover resends what the endpoint missed in the window.
    gone = false;
    const rec = await c.recoverWebhookEndpoint(a.id, { since });
    assert.equal((await c.getWebhookEndpoint(a.id)).status, 'enabled');
    assert.equal(rec.resent, 1);
    await eventually(async () => rcv!.received.filter((r) => r.path.includes('?a')).length >= 2, 20_000);
    const resent = rcv.received.filter((r) => r.path.includes('?a')).at(-1)!;
    assert.equal((verifyWebhook(resent.raw, resent.headers, a.secret!) as { type: string }).type, 'payment.created');
    // The merchant-facing API names the ordering the endpoint keeps.
    const listed = await api('GET', `/v1/webhook_endpoints/${a.id}`, { key: m.key });
    assert.equal(listed.body.ordering, 'sequence');
  });

  it('recover after retries: a lane sleeping out a retry delay is woken and resends at once; two recovers at once send each event once; nothing from before the endpoint existed', async function () {
    this.timeout(90_000);
    let mode: 'fail' | 'gone' | 'ok' = 'fail';
    rcv = await startReceiver(() => (mode === 'fail' ? { status: 500 } : mode === 'gone' ? { status: 410 } : { status: 200 }));
    const m = await newMerchant();
    const c = clientFor(m.key);
    const before = await c.createPayment({ amount: '1.00', rail: 'usdt-erc20', reference: 'wh-before-endpoint' });
    const ep = await c.createWebhookEndpoint({ url: rcv.url });
    const since = new Date(Date.now() - 60_000).toISOString();
    // Its first attempts fail: attempt 1 by the recording activity, attempt 2 by the lane after
    // 5 s, and then the lane sleeps the schedule's 5 minutes.
    const p = await c.createPayment({ amount: '2.00', rail: 'usdt-erc20', reference: 'wh-lane-sleeping' });
    const lane = `whl_${p.id}_${ep.id}`;
    await eventually(async () => rcv!.received.length >= 2, 20_000);
    // A 410 on another payment's event disables the endpoint: the sleeping lane's delivery ends.
    mode = 'gone';
    await c.createPayment({ amount: '3.00', rail: 'usdt-erc20', reference: 'wh-gone' });
    await eventually(async () => (await c.getWebhookEndpoint(ep.id)).status === 'disabled', 20_000);
    await c.cancelPayment(p.id, 'wh-lane-cancel');
    mode = 'ok';
    const [a, b] = await Promise.all([c.recoverWebhookEndpoint(ep.id, { since }, 'wh-rec-a'), c.recoverWebhookEndpoint(ep.id, { since }, 'wh-rec-b')]);
    const resent = [...a.event_ids, ...b.event_ids];
    assert.equal(new Set(resent).size, resent.length, 'no event resent by both');
    assert.equal(resent.length, 3, 'created and canceled of the sleeping payment, created of the gone one');
    assert.ok(!(await c.listEvents({ object_id: before.id })).data.some((e) => resent.includes(e.id)), 'nothing from before the endpoint existed');
    // Delivered within seconds, in order, by the lane that was sleeping out 5 minutes.
    const ok = () => rcv!.received.filter((r, i) => i >= 3 && JSON.parse(r.raw.toString()).data.id === p.id).map((r) => JSON.parse(r.raw.toString()).type);
    await eventually(async () => ok().length >= 2, 20_000);
    assert.deepEqual(ok(), ['payment.created', 'payment.canceled']);
    const laneHistory = await h().stack.client.workflow.getHandle(lane).fetchHistory();
    assert.ok((laneHistory.events ?? []).some((e) => e.timerCanceledEventAttributes), 'the retry delay was cut short by the wake');
    await eventually(async () => (await c.listDeliveries(ep.id, { limit: 20 })).data.filter((d) => d.kind === 'recovery' && d.status === 'succeeded').length === 3, 20_000);
    assert.equal((await c.listDeliveries(ep.id, { limit: 20 })).data.filter((d) => d.kind === 'recovery').length, 3, 'one recovery row per event');
  });

  it('recovering an endpoint with ordering "none": the recovery\'s workflow hands each event to a delivery child of its own', async function () {
    this.timeout(60_000);
    let gone = true;
    rcv = await startReceiver(() => (gone ? { status: 410 } : { status: 200 }));
    const m = await newMerchant();
    const c = clientFor(m.key);
    const ep = await c.createWebhookEndpoint({ url: rcv.url, ordering: 'none' });
    const since = new Date(Date.now() - 1000).toISOString();
    const p = await c.createPayment({ amount: '2.00', rail: 'usdt-erc20', reference: 'wh-recover-none' });
    await eventually(async () => (await c.getWebhookEndpoint(ep.id)).status === 'disabled', 20_000);
    await c.cancelPayment(p.id, 'wh-recover-none-cancel');
    gone = false;
    const rec = await c.recoverWebhookEndpoint(ep.id, { since });
    assert.equal(rec.resent, 2);
    await eventually(async () => rcv!.received.length >= 3, 20_000);
    const types = rcv.received.slice(1).map((r) => (verifyWebhook(r.raw, r.headers, ep.secret!) as { type: string }).type).sort();
    assert.deepEqual(types, ['payment.canceled', 'payment.created']);
    const hist = await h().stack.client.workflow.getHandle(rec.id).fetchHistory();
    const children = (hist.events ?? []).map((e) => e.startChildWorkflowExecutionInitiatedEventAttributes).filter(Boolean);
    assert.deepEqual(children.map((x) => x!.workflowType?.name), ['webhookDeliveryWorkflow', 'webhookDeliveryWorkflow']);
    assert.ok(children.every((x) => x!.workflowId!.startsWith('whd_') && x!.workflowId!.endsWith(`_${ep.id}_${rec.id}`)), 'one child per event, named by the recovery');
    const deliveries = await c.listDeliveries(ep.id, { limit: 10 });
    assert.deepEqual(deliveries.data.filter((d) => d.kind === 'recovery').map((d) => d.status).sort(), ['succeeded', 'succeeded']);
  });
});
