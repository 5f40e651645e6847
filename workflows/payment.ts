// The payment workflow: one per payment, workflow id = payment id. It decides; the
// activities it calls record. Every status change goes through `transition`, which
// checks the one transition table and records the row, event and evidence entry
// in a single idempotent activity before the new status becomes visible.
import {
  ApplicationFailure,
  ParentClosePolicy,
  patched,
  startChild,
  condition,
  continueAsNew,
  proxyActivities,
  setHandler,
  upsertSearchAttributes,
  workflowInfo,
  log,
} from '@temporalio/workflow';
import { WorkflowExecutionAlreadyStartedError } from '@temporalio/common';
import type { PaymentActivities } from '../activities/payment.js';
import type { WebhookDispatchActivities } from '../activities/webhooks/delivery.js';
import type { webhookDeliveryWorkflow } from './webhook-delivery.js';
import { canTransition, FINAL_STATUSES, type ExceptionCode, type PaymentStatus } from './rules/transitions.js';
import {
  cancelPaymentUpdate,
  paymentStateQuery,
  resolvePaymentUpdate,
  SEARCH_ATTRIBUTES,
  TASK_QUEUES,
  type PaymentWorkflowInput,
  type PaymentWorkflowState,
  type ResolveRequest,
  type CancelRequest,
} from './shared.js';

const { recordTransition, releaseDepositAddress } = proxyActivities<PaymentActivities>({
  startToCloseTimeout: '30 seconds',
  retry: {
    initialInterval: '200 milliseconds',
    backoffCoefficient: 2,
    maximumInterval: '30 seconds',
    // No maximumAttempts: a database outage must not lose a transition, and the activity is idempotent.
    nonRetryableErrorTypes: ['IllegalTransitionError', 'TransitionOutOfOrderError'],
  },
});

export const WEBHOOK_DISPATCH_PATCH = 'webhook-dispatch';

const { planDeliveries } = proxyActivities<WebhookDispatchActivities>({
  startToCloseTimeout: '30 seconds',
  // No maximumAttempts: an event must reach its endpoints, and planning is idempotent.
  retry: { initialInterval: '200 milliseconds', backoffCoefficient: 2, maximumInterval: '30 seconds' },
});

/**
 * Hand one event to a delivery child per subscribed endpoint. ABANDON: a payment that ends
 * never cancels a pending delivery. The child id is derived from event and endpoint, so a
 * replayed or retried dispatch finds the child already started instead of starting a second.
 */
async function dispatchEvent(objectId: string, sequence: number): Promise<void> {
  // Payments started before webhook delivery existed replay without these commands.
  if (!patched(WEBHOOK_DISPATCH_PATCH)) return;
  const planned = await planDeliveries({ objectId, sequence });
  await Promise.all(
    planned.map(async (p) => {
      try {
        await startChild<typeof webhookDeliveryWorkflow>('webhookDeliveryWorkflow', {
          workflowId: p.deliveryId,
          taskQueue: TASK_QUEUES.webhooks,
          args: [p],
          parentClosePolicy: ParentClosePolicy.ABANDON,
          workflowIdReusePolicy: 'REJECT_DUPLICATE',
        });
      } catch (err) {
        if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
      }
    }),
  );
}

export async function paymentWorkflow(input: PaymentWorkflowInput): Promise<PaymentWorkflowState> {
  const state: PaymentWorkflowState = input.carried ?? {
    paymentId: input.paymentId,
    status: 'awaiting_payment',
    exceptionCode: null,
    seq: 1, // seq 1 (payment.created) is written by the API with the payment row
    amountMinor: input.amountMinor,
    amountReceivedMinor: '0',
    expiresAtMs: input.expiresAtMs,
  };

  // Transitions are serialized: an Update and the timer can race, the table decides.
  let queue: Promise<unknown> = Promise.resolve();
  function transition(
    to: PaymentStatus,
    cause: string,
    actor: string,
    opts: { exceptionCode?: ExceptionCode | null; reason?: string } = {},
  ): Promise<void> {
    const next = queue.then(async () => {
      if (!canTransition(state.status, to)) {
        throw ApplicationFailure.nonRetryable(
          `payment is ${state.status}; it cannot become ${to}`,
          'payment_state_conflict',
        );
      }
      const exceptionCode = to === 'requires_review' ? (opts.exceptionCode ?? null) : null;
      await recordTransition({
        paymentId: state.paymentId,
        seq: state.seq + 1,
        from: state.status,
        to,
        cause,
        actor,
        exceptionCode,
        amountReceivedMinor: state.amountReceivedMinor,
        reason: opts.reason,
      });
      state.seq += 1;
      state.status = to;
      state.exceptionCode = exceptionCode;
      if (input.upsertSearchAttributes) upsertSearchAttributes({ [SEARCH_ATTRIBUTES.status]: [to] });
      // Inside the serialized queue: deliveries start in sequence order (ordering stays best effort).
      await dispatchEvent(state.paymentId, state.seq);
    });
    queue = next.catch(() => undefined);
    return next;
  }

  setHandler(paymentStateQuery, () => ({ ...state }));

  // payment.created (seq 1) was written by the API with the payment row; it is dispatched here, once.
  if (!input.carried) {
    queue = queue.then(() => dispatchEvent(state.paymentId, 1)).catch((e) => log.error('payment.created not dispatched', { error: String(e) }));
  }

  setHandler(
    cancelPaymentUpdate,
    async ({ actor }) => {
      await transition('canceled', 'merchant_cancel', actor);
      return { ...state };
    },
    {
      validator: (_req: CancelRequest) => {
        // Cancel is only for a payment that has seen no money: after that it is the state machine's call.
        if (state.status !== 'awaiting_payment') {
          throw ApplicationFailure.nonRetryable(`payment is ${state.status}; only awaiting_payment can be canceled`, 'payment_not_cancelable');
        }
      },
    },
  );

  setHandler(
    resolvePaymentUpdate,
    async (req: ResolveRequest) => {
      const to: PaymentStatus = req.decision === 'accept' ? 'confirmed' : req.decision === 'refund' ? 'refunded' : 'written_off';
      await transition(to, `operator_${req.decision}`, req.operator, { reason: req.reason });
      return { ...state };
    },
    {
      validator: (req: ResolveRequest) => {
        if (state.status !== 'requires_review') {
          throw ApplicationFailure.nonRetryable(`payment is ${state.status}; only requires_review can be resolved`, 'payment_not_in_review');
        }
        if (!req.reason || !req.operator) throw ApplicationFailure.nonRetryable('reason and operator are required', 'parameter_missing');
      },
    },
  );

  // The expiry timer is durable: a worker restart does not reset it.
  while (state.status === 'awaiting_payment') {
    const remainingMs = state.expiresAtMs - Date.now();
    const changed = await condition(() => state.status !== 'awaiting_payment', Math.max(remainingMs, 1));
    if (!changed && state.status === 'awaiting_payment' && Date.now() >= state.expiresAtMs) {
      // Losing the race to a detection or a cancel is fine: the table refused the move and the loop ends.
      await transition('expired', 'timer_expired', 'system').catch((e) => log.info('expiry not applied', { error: String(e) }));
    }
    if (workflowInfo().continueAsNewSuggested) await continueAsNew<typeof paymentWorkflow>({ ...input, carried: state });
  }

  // After a final status the workflow keeps listening for late money for a bounded window,
  // then ends; while in review it waits for the operator as long as it takes.
  for (;;) {
    await queue;
    if (FINAL_STATUSES.has(state.status)) {
      const seqAtClose = state.seq;
      const reopened = await condition(() => state.seq !== seqAtClose, input.monitorAfterCloseS * 1000);
      if (!reopened) break;
      continue;
    }
    const seqBefore = state.seq;
    await condition(() => state.seq !== seqBefore);
    if (workflowInfo().continueAsNewSuggested) await continueAsNew<typeof paymentWorkflow>({ ...input, carried: state });
  }
  await queue;
  // Nothing more can arrive for this payment: its address may serve another one.
  await releaseDepositAddress(state.paymentId);
  return { ...state };
}
