// The payment workflow in Temporal's time-skipping test server, with its real activities
// writing to the suite's real PostgreSQL: long timers pass in milliseconds of wall time.
import assert from 'node:assert/strict';
import fc from 'fast-check';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { startTimeSkipping } from './time-skipping.js';
import { Worker } from '@temporalio/worker';
import { WorkflowUpdateFailedError } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { createActivities } from '../workers/payment-worker.js';
import { insertPayment } from '../activities/payment.js';
import { railById } from '../activities/config.js';
import { canTransition, type PaymentStatus } from '../workflows/rules/transitions.js';
import { cancelPaymentUpdate, paymentStateQuery, resolvePaymentUpdate, type PaymentWorkflowInput } from '../workflows/shared.js';
import { h, newMerchant } from './harness.js';
import { registerSearchAttributes } from '../temporal-config/search-attributes.js';

const TASK_QUEUE = 'payments-time-skipping';

describe('payment workflow (time-skipping test server)', function () {
  let env: TestWorkflowEnvironment;
  let worker: Worker;
  let running: Promise<void>;

  before(async function () {
    this.timeout(120_000);
    env = await startTimeSkipping();
    // The same search attributes as every real namespace: the workflow upserts its status.
    await registerSearchAttributes(env.connection, env.namespace ?? 'default');
    worker = await Worker.create({
      connection: env.nativeConnection,
      taskQueue: TASK_QUEUE,
      workflowBundle: h().bundle,
      activities: createActivities({ pool: h().stack.pool, config: h().config }),
    });
    running = worker.run();
  });

  after(async function () {
    this.timeout(60_000);
    worker?.shutdown();
    await running;
    await env?.teardown();
  });

  async function newPayment(expiresInS: number) {
    const m = await newMerchant();
    const row = await insertPayment(h().stack.pool, h().config, {
      merchantId: m.merchantId,
      environment: 'sandbox',
      rail: railById(h().config, 'usdt-erc20')!,
      amountMinor: 5_000_000n,
      reference: 'wf-test',
      metadata: {},
      expiresInS,
      actor: 'test',
    });
    const input: PaymentWorkflowInput = {
      paymentId: row.id,
      merchantId: m.merchantId,
      environment: 'sandbox',
      rail: row.rail,
      amountMinor: row.amount_minor,
      expiresAtMs: row.expires_at.getTime(),
      monitorAfterCloseS: 3600,
    };
    // The test server's clock starts at wall time; the window is measured from it.
    const handle = await env.client.workflow.start('paymentWorkflow', { taskQueue: TASK_QUEUE, workflowId: row.id, args: [input] });
    return { row, handle };
  }

  async function transitions(paymentId: string) {
    const { rows } = await h().stack.pool.query(`SELECT seq, from_status, to_status FROM payment_transitions WHERE payment_id = $1 ORDER BY seq`, [paymentId]);
    return rows as Array<{ seq: number; from_status: PaymentStatus | null; to_status: PaymentStatus }>;
  }

  it('expires a seven-day payment on its durable timer in seconds of wall time, then releases its address', async () => {
    const started = Date.now();
    const { row, handle } = await newPayment(7 * 24 * 3600);
    const result = await handle.result();
    assert.equal(result.status, 'expired');
    assert.ok(Date.now() - started < 20_000, 'time skipping should make a 7-day timer fast');
    const t = await transitions(row.id);
    assert.deepEqual(t.map((x) => x.to_status), ['awaiting_payment', 'expired']);
    const { rows } = await h().stack.pool.query(`SELECT payment_id, released_at FROM deposit_addresses WHERE address = $1`, [row.deposit_address]);
    assert.equal(rows[0].payment_id, null);
    assert.ok(rows[0].released_at);
  });

  it('cancels through an Update, and refuses a second cancel and a resolve with typed failures', async () => {
    const { row, handle } = await newPayment(3600);
    const state = await handle.executeUpdate(cancelPaymentUpdate, { args: [{ actor: 'test' }] });
    assert.equal(state.status, 'canceled');
    const failureType = (e: unknown) => (e instanceof WorkflowUpdateFailedError && e.cause instanceof ApplicationFailure ? e.cause.type : undefined);
    await assert.rejects(handle.executeUpdate(cancelPaymentUpdate, { args: [{ actor: 'test' }] }), (e: unknown) => failureType(e) === 'payment_not_cancelable');
    await assert.rejects(
      handle.executeUpdate(resolvePaymentUpdate, { args: [{ decision: 'accept', reason: 'x', operator: 'op' }] }),
      (e: unknown) => failureType(e) === 'payment_not_in_review',
    );
    assert.equal((await handle.query(paymentStateQuery)).status, 'canceled');
    assert.deepEqual((await transitions(row.id)).map((x) => x.to_status), ['awaiting_payment', 'canceled']);
    const { rows } = await h().stack.pool.query(`SELECT type, sequence FROM events WHERE object_id = $1 ORDER BY sequence`, [row.id]);
    assert.deepEqual(rows.map((r) => r.type), ['payment.created', 'payment.canceled']);
  });

  it('never records an illegal status path under random cancels, resolves and timer firings (property)', async function () {
    this.timeout(120_000);
    const action = fc.oneof(
      fc.record({ kind: fc.constant('cancel' as const) }),
      fc.record({ kind: fc.constant('resolve' as const), decision: fc.constantFrom('accept' as const, 'refund' as const, 'write_off' as const) }),
      fc.record({ kind: fc.constant('sleep' as const), s: fc.integer({ min: 1, max: 400 }) }),
    );
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 10, max: 600 }), fc.array(action, { minLength: 1, maxLength: 6 }), async (windowS, actions) => {
        const { row, handle } = await newPayment(windowS);
        // Fire some actions concurrently, some after skipping time: races are the point.
        const pending: Array<Promise<unknown>> = [];
        for (const a of actions) {
          if (a.kind === 'sleep') await env.sleep(a.s * 1000);
          else if (a.kind === 'cancel') pending.push(handle.executeUpdate(cancelPaymentUpdate, { args: [{ actor: 'prop' }] }).catch(() => undefined));
          else pending.push(handle.executeUpdate(resolvePaymentUpdate, { args: [{ decision: a.decision, reason: 'prop', operator: 'op' }] }).catch(() => undefined));
        }
        await Promise.all(pending);
        await env.sleep(700 * 1000);
        const t = await transitions(row.id);
        t.forEach((x, i) => {
          assert.equal(x.seq, i + 1, 'sequences are contiguous');
          assert.ok(canTransition(x.from_status, x.to_status), `illegal ${x.from_status} -> ${x.to_status}`);
          if (i > 0) assert.equal(x.from_status, t[i - 1]!.to_status, 'each transition starts where the last ended');
        });
        const final = (await handle.query(paymentStateQuery)).status;
        assert.equal(final, t.at(-1)!.to_status, 'the workflow and the view agree');
        assert.ok(final === 'expired' || final === 'canceled');
      }),
      { numRuns: 12 },
    );
  });
});
