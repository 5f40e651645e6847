// Payment commands: translate a validated request into PostgreSQL records and Temporal
// starts and Updates. The rules they apply live in workflows/rules and the workflow itself.
import { WorkflowExecutionAlreadyStartedError, WorkflowUpdateFailedError, WorkflowNotFoundError, type Client } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import type { Pool } from '../activities/db.js';
import type { StablerailConfig } from '../activities/config.js';
import { railById } from '../activities/config.js';
import { getPaymentRow, insertPayment, type PaymentRow } from '../activities/payment.js';
import { isRailEnabled, type KeyAuth } from '../activities/merchant.js';
import { MoneyError, parseAmount } from '../workflows/rules/money.js';
import { DEFAULT_RECOGNITION_GATES } from '../workflows/rules/recognition-gates.js';
import type { paymentWorkflow } from '../workflows/payment.js';
import { cancelPaymentUpdate, resolvePaymentUpdate, SEARCH_ATTRIBUTES, TASK_QUEUES, type PaymentWorkflowInput, type ResolveRequest } from '../workflows/shared.js';
import { ApiError, badRequest, notFound } from './errors.js';
import type { Metrics } from './metrics.js';

export interface CommandDeps {
  pool: Pool;
  config: StablerailConfig;
  temporal: Client;
  metrics: Metrics;
}

export interface PaymentCreateBody {
  amount: string;
  rail: string;
  reference: string;
  expires_in_s?: number;
  metadata?: Record<string, string>;
}

export async function createPayment(deps: CommandDeps, auth: KeyAuth, body: PaymentCreateBody, paymentId: string | null, takeover = false): Promise<PaymentRow> {
  const rail = railById(deps.config, body.rail);
  if (!rail || !rail.environments.includes(auth.environment)) throw badRequest('rail_unknown', `No rail ${body.rail} is configured for ${auth.environment}`, 'rail');
  if (!(await isRailEnabled(deps.pool, auth.merchantId, auth.environment, rail.id))) {
    throw badRequest('rail_not_enabled', `Rail ${rail.id} is not enabled for this merchant in ${auth.environment}`, 'rail');
  }
  let amountMinor: bigint;
  try {
    amountMinor = parseAmount(body.amount, rail.decimals);
  } catch (err) {
    if (err instanceof MoneyError) throw badRequest(err.code, err.message, 'amount');
    throw err;
  }
  // A retried request (an idempotency takeover) finds the payment it already wrote.
  const existing = paymentId && takeover ? await getPaymentRow(deps.pool, paymentId) : undefined;
  const row =
    existing ??
    (await insertPayment(deps.pool, deps.config, {
      paymentId: paymentId ?? undefined,
      merchantId: auth.merchantId,
      environment: auth.environment,
      rail,
      amountMinor,
      reference: body.reference,
      metadata: body.metadata ?? {},
      expiresInS: body.expires_in_s ?? rail.payment_window_s,
      actor: `api_key:${auth.keyId}`,
    }));
  await startPaymentWorkflow(deps, row);
  return row;
}

export async function startPaymentWorkflow(deps: CommandDeps, row: PaymentRow): Promise<void> {
  const input: PaymentWorkflowInput = {
    paymentId: row.id,
    merchantId: row.merchant_id,
    environment: row.environment,
    rail: row.rail,
    amountMinor: row.amount_minor,
    expiresAtMs: row.expires_at.getTime(),
    monitorAfterCloseS: deps.config.monitor_after_close_s,
    upsertSearchAttributes: deps.config.temporal.search_attributes,
    underpayToleranceMinor: railById(deps.config, row.rail)?.underpay_tolerance_minor ?? '0',
    recognitionGates: railById(deps.config, row.rail)?.recognition_gates ?? [...DEFAULT_RECOGNITION_GATES],
  };
  try {
    await deps.temporal.workflow.start<typeof paymentWorkflow>('paymentWorkflow', {
      taskQueue: TASK_QUEUES.payments,
      workflowId: row.id,
      args: [input],
      // The workflow id is the payment id: starting it twice is refused, which makes this call idempotent.
      workflowIdReusePolicy: 'REJECT_DUPLICATE',
      ...(deps.config.temporal.search_attributes
        ? {
            searchAttributes: {
              [SEARCH_ATTRIBUTES.merchantId]: [row.merchant_id],
              [SEARCH_ATTRIBUTES.environment]: [row.environment],
              [SEARCH_ATTRIBUTES.rail]: [row.rail],
              [SEARCH_ATTRIBUTES.status]: [row.status],
            },
          }
        : {}),
    });
    deps.metrics.workflowStarts.inc({ workflow: 'paymentWorkflow', result: 'started' });
  } catch (err) {
    if (err instanceof WorkflowExecutionAlreadyStartedError) {
      deps.metrics.workflowStarts.inc({ workflow: 'paymentWorkflow', result: 'already_started' });
      return;
    }
    deps.metrics.workflowStarts.inc({ workflow: 'paymentWorkflow', result: 'failed' });
    throw new ApiError(503, 'api_error', 'orchestrator_unavailable', `Payment ${row.id} was recorded but its workflow could not start yet; retry with the same Idempotency-Key`);
  }
}

/** Owner check: another merchant's or environment's payment answers 404, as if it did not exist. */
export async function ownedPayment(pool: Pool, auth: KeyAuth, id: string): Promise<PaymentRow> {
  const row = /^pay_[0-9A-Za-z]{24}$/.test(id) ? await getPaymentRow(pool, id) : undefined;
  if (!row || row.merchant_id !== auth.merchantId || row.environment !== auth.environment) throw notFound('payment');
  return row;
}

/** A refused Update answers 409 with the workflow's own code; a closed workflow, `{what}_closed`. */
export function updateError(err: unknown, what = 'payment'): never {
  const cause = err instanceof WorkflowUpdateFailedError ? err.cause : undefined;
  if (cause instanceof ApplicationFailure) {
    throw new ApiError(409, 'state_error', cause.type ?? `${what}_state_conflict`, cause.message);
  }
  if (err instanceof WorkflowNotFoundError || (err instanceof Error && /completed|not found/i.test(err.message))) {
    throw new ApiError(409, 'state_error', `${what}_closed`, `This ${what} is closed and can no longer change`);
  }
  throw err;
}

export async function cancelPayment(deps: CommandDeps, auth: KeyAuth, id: string): Promise<PaymentRow> {
  const row = await ownedPayment(deps.pool, auth, id);
  if (row.status !== 'awaiting_payment') {
    throw new ApiError(409, 'state_error', 'payment_not_cancelable', `payment is ${row.status}; only awaiting_payment can be canceled`);
  }
  try {
    await deps.temporal.workflow.getHandle(id).executeUpdate(cancelPaymentUpdate, { args: [{ actor: `api_key:${auth.keyId}` }] });
  } catch (err) {
    updateError(err);
  }
  return (await getPaymentRow(deps.pool, id))!;
}

export async function resolvePayment(deps: CommandDeps, id: string, req: ResolveRequest): Promise<PaymentRow> {
  const row = /^pay_[0-9A-Za-z]{24}$/.test(id) ? await getPaymentRow(deps.pool, id) : undefined;
  if (!row) throw notFound('payment');
  try {
    await deps.temporal.workflow.getHandle(id).executeUpdate(resolvePaymentUpdate, { args: [req] });
  } catch (err) {
    updateError(err);
  }
  return (await getPaymentRow(deps.pool, id))!;
}
