// The delivery workflow's whole retry schedule (about three days) in Temporal's time-skipping
// test server: durable timers pass in seconds of wall time, while each attempt is a real HTTP
// POST from the real activity to a loopback receiver and a real row in PostgreSQL.
import assert from 'node:assert/strict';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { startTimeSkipping } from './time-skipping.js';
import { Worker } from '@temporalio/worker';
import { createWebhookDeliveryActivities, insertDeliveries } from '../activities/webhooks/delivery.js';
import { createEndpoint } from '../activities/webhooks/endpoints.js';
import { newId } from '../activities/ids.js';
import { RETRY_DELAYS_MS, JITTER_FRACTION } from '../workflows/rules/retry-schedule.js';
import { deliveryIdFor, type DeliveryResult } from '../workflows/webhook-shared.js';
import type { webhookDeliveryWorkflow } from '../workflows/webhook-delivery.js';
import type { webhookLaneWorkflow } from '../workflows/webhook-lane.js';
import { laneIdFor } from '../workflows/webhook-shared.js';
import { TASK_QUEUES } from '../workflows/shared.js';
import { verifyWebhook } from '../sdk/index.js';
import { h, newMerchant, testConfig } from './harness.js';
import { startReceiver, type Receiver, type Reply } from './webhook-receiver.js';

const TASK_QUEUE = 'webhooks-time-skipping';
const ATTEMPT_TIMEOUT_MS = 1_000;

describe('webhook delivery schedule (time-skipping test server)', function () {
  this.timeout(120_000);
  let env: TestWorkflowEnvironment;
  let worker: Worker;
  let running: Promise<void>;
  let rcv: Receiver | null = null;

  before(async function () {
    env = await startTimeSkipping();
    // Short attempt deadline so the timeout case costs one second of wall time, not fifteen.
    const config = testConfig(h().config.base_url, { webhooks: { attempt_timeout_ms: ATTEMPT_TIMEOUT_MS } });
    worker = await Worker.create({
      connection: env.nativeConnection,
      namespace: env.namespace ?? 'default',
      taskQueue: TASK_QUEUE,
      workflowBundle: h().bundle,
      activities: createWebhookDeliveryActivities({ pool: h().stack.pool, config, masterKey: h().masterKey }),
    });
    running = worker.run();
  });
  after(async () => {
    worker?.shutdown();
    await running;
    await env?.teardown();
  });
  afterEach(async () => {
    await rcv?.close();
    rcv = null;
  });

  async function deliver(reply: (n: number) => Reply) {
    rcv = await startReceiver((_r, n) => reply(n));
    const m = await newMerchant();
    const { row: ep, secret } = await createEndpoint(h().stack.pool, h().masterKey, h().config, { merchantId: m.merchantId, environment: 'sandbox', actor: 'test' }, { url: rcv.url }, null);
    const eventId = newId('evt');
    await h().stack.pool.query(
      `INSERT INTO events (id, merchant_id, environment, type, object_type, object_id, sequence, data) VALUES ($1, $2, 'sandbox', 'payment.confirmed', 'payment', $3, 3, '{"status":"confirmed"}')`,
      [eventId, m.merchantId, newId('pay')],
    );
    const deliveryId = deliveryIdFor(eventId, ep.id);
    await insertDeliveries(h().stack.pool, [{ deliveryId, eventId, endpointId: ep.id, kind: 'automatic' }]);
    const result: DeliveryResult = await env.client.workflow.execute<typeof webhookDeliveryWorkflow>('webhookDeliveryWorkflow', {
      taskQueue: TASK_QUEUE,
      workflowId: deliveryId,
      args: [{ deliveryId, eventId, endpointId: ep.id }],
    });
    return { result, secret: secret!, endpointId: ep.id, eventId, deliveryId, rcv };
  }

  const gapsS = (r: DeliveryResult) => r.attempts.slice(1).map((a, i) => (a.atMs - r.attempts[i]!.atMs) / 1000);

  it('a receiver failing for three days gets all ten attempts on the schedule, then the endpoint is disabled and an event recorded', async () => {
    const started = Date.now();
    const { result, secret, endpointId, eventId, deliveryId, rcv } = await deliver(() => ({ status: 500, body: 'x'.repeat(5000) }));
    assert.equal(result.status, 'failed');
    assert.equal(result.reason, 'retries_exhausted');
    assert.equal(result.attempts.length, 10);
    const gaps = gapsS(result);
    gaps.forEach((g, i) => {
      const base = RETRY_DELAYS_MS[i + 1]! / 1000;
      assert.ok(g >= base * (1 - JITTER_FRACTION) && g <= base * (1 + JITTER_FRACTION) + 5, `gap ${i + 1}: ${g}s vs ${base}s`);
    });
    const spanH = (result.attempts.at(-1)!.atMs - result.attempts[0]!.atMs) / 3_600_000;
    assert.ok(spanH > 68 && spanH < 84, `the schedule spans about three days (${spanH.toFixed(1)} h)`);
    assert.ok(Date.now() - started < 60_000, 'in seconds of wall time');
    // Every attempt reached the receiver, verified, with the same webhook-id and a fresh timestamp.
    assert.equal(rcv.received.length, 10);
    for (const r of rcv.received) assert.equal(verifyWebhook(r.raw, r.headers, secret).id, eventId);
    const pool = h().stack.pool;
    const attempts = await pool.query(`SELECT attempt, response_status, length(response_body_excerpt) AS excerpt_len, outcome FROM webhook_attempts WHERE delivery_id = $1 ORDER BY attempt`, [deliveryId]);
    assert.deepEqual(attempts.rows.map((a) => a.attempt), [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    assert.ok(attempts.rows.every((a) => a.response_status === 500 && a.outcome === 'failed' && a.excerpt_len === 1024));
    const ep = await pool.query(`SELECT status, disabled_reason FROM webhook_endpoints WHERE id = $1`, [endpointId]);
    assert.deepEqual(ep.rows[0], { status: 'disabled', disabled_reason: 'retries_exhausted' });
    const evt = await pool.query(`SELECT type FROM events WHERE object_id = $1`, [endpointId]);
    assert.deepEqual(evt.rows.map((e) => e.type), ['webhook_endpoint.disabled']);
    const d = await pool.query(`SELECT status, attempt_count FROM webhook_deliveries WHERE id = $1`, [deliveryId]);
    assert.deepEqual(d.rows[0], { status: 'failed', attempt_count: 10 });
    // The recorded three-day history replays against today's workflow code without a non-determinism error.
    const history = await env.client.workflow.getHandle(deliveryId).fetchHistory();
    await Worker.runReplayHistory({ workflowBundle: h().bundle }, history, deliveryId);
  });

  it('429 and 503 with Retry-After set the next delay instead of the schedule', async () => {
    const { result } = await deliver((n) =>
      n === 1 ? { status: 503, headers: { 'retry-after': '30' } } : n === 2 ? { status: 429, headers: { 'retry-after': '120' } } : { status: 204 },
    );
    assert.equal(result.status, 'succeeded');
    assert.deepEqual(result.attempts.map((a) => a.responseStatus), [503, 429, 204]);
    const [g1, g2] = gapsS(result);
    assert.ok(g1! >= 30 && g1! < 33, `503 Retry-After 30 → ${g1}s`);
    assert.ok(g2! >= 120 && g2! < 123, `429 Retry-After 120 → ${g2}s (the schedule would say 5 min)`);
  });

  it('a receiver that does not answer in time is a failed attempt; the next one, 5 s later, succeeds', async () => {
    const { result, deliveryId } = await deliver((n) => (n === 1 ? 'hang' : { status: 200 }));
    assert.equal(result.status, 'succeeded');
    assert.equal(result.attempts.length, 2);
    const g = gapsS(result)[0]!;
    assert.ok(g >= 4.5 && g < 10, `${g}s`);
    const a = await h().stack.pool.query(`SELECT response_status, error, latency_ms FROM webhook_attempts WHERE delivery_id = $1 AND attempt = 1`, [deliveryId]);
    assert.equal(a.rows[0].response_status, null);
    assert.match(a.rows[0].error, /^timeout/);
    assert.ok(a.rows[0].latency_ms >= ATTEMPT_TIMEOUT_MS - 50);
  });

  it('a redirect is a failure and is not followed; 410 stops at once and disables the endpoint', async () => {
    const { result, rcv, deliveryId } = await deliver((n) => (n === 1 ? { status: 302, headers: { location: '/elsewhere' } } : { status: 200 }));
    assert.equal(result.status, 'succeeded');
    assert.deepEqual(result.attempts.map((a) => a.responseStatus), [302, 200]);
    assert.ok(rcv.received.every((r) => r.path === '/hooks'), 'the Location was never requested');
    const a = await h().stack.pool.query(`SELECT error FROM webhook_attempts WHERE delivery_id = $1 AND attempt = 1`, [deliveryId]);
    assert.equal(a.rows[0].error, 'redirect_not_followed');
    await rcv.close();

    const gone = await deliver(() => ({ status: 410 }));
    assert.equal(gone.result.status, 'failed');
    assert.equal(gone.result.reason, 'gone');
    assert.equal(gone.result.attempts.length, 1);
    const ep = await h().stack.pool.query(`SELECT status, disabled_reason FROM webhook_endpoints WHERE id = $1`, [gone.endpointId]);
    assert.deepEqual(ep.rows[0], { status: 'disabled', disabled_reason: 'gone' });
  });

  // Last in this file: after it, the time-skipping server stopped skipping time for the next
  // test (a test-server effect not understood yet; the lane completes and nothing is left open).
  it('a lane whose first event fails for three days: the later event of the same payment is never sent, the endpoint is disabled and announced to the other endpoint', async () => {
    const started = Date.now();
    rcv = await startReceiver((r) => (r.path.includes('other') ? { status: 200 } : { status: 500 }));
    const m = await newMerchant();
    const pool = h().stack.pool;
    const { row: ep, secret } = await createEndpoint(pool, h().masterKey, h().config, { merchantId: m.merchantId, environment: 'sandbox', actor: 'test' }, { url: rcv.url }, null);
    const { row: other, secret: otherSecret } = await createEndpoint(pool, h().masterKey, h().config, { merchantId: m.merchantId, environment: 'sandbox', actor: 'test' }, { url: `${rcv.url}?other`, enabled_events: ['webhook_endpoint.*'] }, null);
    const payId = newId('pay');
    const [first, later] = [newId('evt'), newId('evt')];
    await pool.query(
      `INSERT INTO events (id, merchant_id, environment, type, object_type, object_id, sequence, data)
       VALUES ($1, $3, 'sandbox', 'payment.detected', 'payment', $4, 2, '{}'), ($2, $3, 'sandbox', 'payment.confirmed', 'payment', $4, 3, '{}')`,
      [first, later, m.merchantId, payId],
    );
    await insertDeliveries(pool, [first, later].map((eventId) => ({ deliveryId: deliveryIdFor(eventId, ep.id), eventId, endpointId: ep.id, kind: 'automatic' as const })));
    const laneId = laneIdFor(payId, ep.id);
    const result = await env.client.workflow.execute<typeof webhookLaneWorkflow>('webhookLaneWorkflow', { taskQueue: TASK_QUEUE, workflowId: laneId, args: [{ objectId: payId, endpointId: ep.id }] });
    assert.deepEqual(result, { objectId: payId, endpointId: ep.id, attempts: 10 });
    assert.ok(Date.now() - started < 60_000, 'in seconds of wall time');
    // Ten attempts of the first event, verified; the later one never left.
    const toEndpoint = rcv.received.filter((r) => !r.path.includes('other'));
    assert.equal(toEndpoint.length, 10);
    for (const r of toEndpoint) assert.equal(verifyWebhook(r.raw, r.headers, secret!).id, first);
    const d = await pool.query(`SELECT event_id, status, attempt_count, last_error FROM webhook_deliveries WHERE endpoint_id = $1 ORDER BY event_id = $2 DESC`, [ep.id, first]);
    assert.deepEqual(d.rows.map((r) => [r.event_id, r.status, r.attempt_count]), [[first, 'failed', 10], [later, 'canceled', 0]]);
    assert.equal(d.rows[1].last_error, 'endpoint_disabled');
    const e = await pool.query(`SELECT status, disabled_reason FROM webhook_endpoints WHERE id = $1`, [ep.id]);
    assert.deepEqual(e.rows[0], { status: 'disabled', disabled_reason: 'retries_exhausted' });
    // The sleeps between attempts are the schedule (durable timers), about three days in all.
    const history = await env.client.workflow.getHandle(laneId).fetchHistory();
    const timersS = (history.events ?? []).filter((x) => x.timerStartedEventAttributes).map((x) => {
      const d = x.timerStartedEventAttributes!.startToFireTimeout!;
      return Number(String(d.seconds ?? 0)) + (d.nanos ?? 0) / 1e9;
    });
    assert.equal(timersS.length, 9);
    timersS.forEach((t, i) => {
      const base = RETRY_DELAYS_MS[i + 1]! / 1000;
      assert.ok(t >= base * (1 - JITTER_FRACTION) - 0.001 && t <= base * (1 + JITTER_FRACTION) + 0.001, `timer ${i + 1}: ${t}s vs ${base}s`);
    });
    // webhook_endpoint.disabled is planned to the merchant's other endpoint and handed to its lane.
    const handedOff = history.events!.filter((x) => x.startChildWorkflowExecutionInitiatedEventAttributes).map((x) => x.startChildWorkflowExecutionInitiatedEventAttributes!.workflowId);
    assert.deepEqual(handedOff, [laneIdFor(ep.id, other.id)]);
    // The handed-off lane runs on the real webhooks queue: a worker for it on this server
    // delivers the announcement (a lane left waiting would also stop the server skipping time).
    const realQueue = await Worker.create({
      connection: env.nativeConnection, namespace: env.namespace ?? 'default', taskQueue: TASK_QUEUES.webhooks, workflowBundle: h().bundle,
      activities: createWebhookDeliveryActivities({ pool, config: h().config, masterKey: h().masterKey }),
    });
    const announced = await realQueue.runUntil(env.client.workflow.getHandle(laneIdFor(ep.id, other.id)).result());
    assert.deepEqual(announced, { objectId: ep.id, endpointId: other.id, attempts: 1 });
    const notice = rcv.received.filter((r) => r.path.includes('other')).map((r) => verifyWebhook(r.raw, r.headers, otherSecret!) as { type: string; data: { id: string; disabled_reason: string } });
    assert.deepEqual(notice.map((e) => [e.type, e.data.id, e.data.disabled_reason]), [['webhook_endpoint.disabled', ep.id, 'retries_exhausted']]);
    await Worker.runReplayHistory({ workflowBundle: h().bundle }, history, laneId);
  });
});
