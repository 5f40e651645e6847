// Order per payment and endpoint, on the real stack: an endpoint that fails a payment's first
// event for a while gets its later event only after the first is delivered; an endpoint with
// ordering "none" gets the later one meanwhile. Every request is verified with the SDK.
import assert from 'node:assert/strict';
import { WorkflowNotFoundError } from '@temporalio/client';
import { eventually, h, newMerchant } from './harness.js';
import { startReceiver, type Receiver } from './webhook-receiver.js';
import { StablerailClient, verifyWebhook } from '../sdk/index.js';
import { laneIdFor } from '../workflows/webhook-shared.js';

const clientFor = (key: string) => new StablerailClient({ apiKey: key, baseUrl: h().stack.apiUrl });

describe('webhook ordering per payment and endpoint (real stack)', () => {
  let rcv: Receiver | null = null;
  afterEach(async () => {
    await rcv?.close();
    rcv = null;
  });

  it('a later event waits while an earlier one is retried (ordering "sequence"); with ordering "none" it is sent at once', async function () {
    this.timeout(60_000);
    // payment.created fails (503, Retry-After 1 s) until the test has seen the later event wait.
    let holdCreated = true;
    rcv = await startReceiver((r) => {
      const e = JSON.parse(r.raw.toString());
      return e.type === 'payment.created' && holdCreated ? { status: 503, headers: { 'retry-after': '1' } } : { status: 200 };
    });
    const m = await newMerchant();
    const c = clientFor(m.key);
    const ordered = await c.createWebhookEndpoint({ url: `${rcv.url}?ordered` });
    assert.equal(ordered.ordering, 'sequence', 'order is kept by default');
    const unordered = await c.createWebhookEndpoint({ url: `${rcv.url}?none`, ordering: 'none' });
    assert.equal(unordered.ordering, 'none');
    const p = await c.createPayment({ amount: '2.00', rail: 'usdt-erc20', reference: 'wh-order' });
    await c.cancelPayment(p.id, 'wh-order-cancel');
    const types = (path: string) => rcv!.received.filter((r) => r.path.includes(path)).map((r) => (verifyWebhook(r.raw, r.headers, path === 'ordered' ? ordered.secret! : unordered.secret!) as { type: string }).type);

    // "none": payment.canceled arrives while payment.created is still failing.
    await eventually(async () => types('none').includes('payment.canceled'), 30_000);
    // "sequence": payment.created has been tried at least twice, payment.canceled not once (queued, pending).
    await eventually(async () => types('ordered').filter((t) => t === 'payment.created').length >= 2, 30_000);
    assert.ok(!types('ordered').includes('payment.canceled'), 'the later event is not sent while the earlier one is retried');
    const { rows: waiting } = await h().stack.pool.query(
      `SELECT e.type, d.status, d.attempt_count FROM webhook_deliveries d JOIN events e ON e.id = d.event_id WHERE d.endpoint_id = $1 ORDER BY e.sequence`,
      [ordered.id],
    );
    assert.deepEqual(waiting.map((r) => [r.type, r.status]), [['payment.created', 'pending'], ['payment.canceled', 'pending']]);
    assert.equal(waiting[1].attempt_count, 0);

    holdCreated = false;
    await eventually(async () => types('ordered').includes('payment.canceled') && types('none').filter((t) => t === 'payment.created').length > 0, 30_000);
    const seq = types('ordered');
    const lastCreated = seq.lastIndexOf('payment.created');
    assert.deepEqual(seq.slice(lastCreated), ['payment.created', 'payment.canceled'], `ordered endpoint saw ${seq.join(', ')}`);
    // Received order for "none": the canceled event came before the created one was delivered.
    const none = types('none');
    assert.ok(none.indexOf('payment.canceled') < none.lastIndexOf('payment.created'), `unordered endpoint saw ${none.join(', ')}`);

    // The ordered endpoint's retries ran in the payment's lane, a child of the payment, which ended once nothing was pending.
    const lane = h().stack.client.workflow.getHandle(laneIdFor(p.id, ordered.id));
    const result = await lane.result();
    assert.equal(result.objectId, p.id);
    assert.ok(result.attempts >= 2);
    assert.equal((await lane.describe()).parentExecution?.workflowId, p.id);
    // The unordered endpoint's failed event got a delivery child of its own, continuing from attempt 2; no lane.
    await assert.rejects(h().stack.client.workflow.getHandle(laneIdFor(p.id, unordered.id)).describe(), (e: unknown) => e instanceof WorkflowNotFoundError);
    const createdId = (await c.listEvents({ object_id: p.id, type: 'payment.created' })).data[0]!.id;
    const child = await h().stack.client.workflow.getHandle(`whd_${createdId}_${unordered.id}`).result();
    assert.equal(child.status, 'succeeded');
    assert.equal(child.attempts[0].attempt, 2);
    // Every attempt is logged; the attempt numbers of one delivery run 1..n.
    const { rows: attempts } = await h().stack.pool.query(
      `SELECT a.delivery_id, array_agg(a.attempt ORDER BY a.attempt) AS n FROM webhook_attempts a WHERE a.endpoint_id = ANY($1) GROUP BY a.delivery_id`,
      [[ordered.id, unordered.id]],
    );
    for (const a of attempts) assert.deepEqual(a.n, a.n.map((_: number, i: number) => i + 1));
    const { rows: done } = await h().stack.pool.query(`SELECT status FROM webhook_deliveries WHERE endpoint_id = ANY($1)`, [[ordered.id, unordered.id]]);
    assert.deepEqual(done.map((r) => r.status), ['succeeded', 'succeeded', 'succeeded', 'succeeded']);
  });
});
