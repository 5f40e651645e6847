// Payment commands: translate a validated request into one Temporal call (an Update-with-Start,
// an Update) and read views. The rules live in workflows/rules and the workflow; the rows are
// written by the workflow's activities, never here.
import { WithStartWorkflowOperation, WorkflowUpdateFailedError, WorkflowNotFoundError, type Client } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import type { Pool } from '../activities/db.js';
import type { StablerailConfig } from '../activities/config.js';
import { railById } from '../activities/config.js';
import { findPayment, type PaymentRow } from '../activities/repositories/payments.js';
import { newId } from '../activities/ids.js';
import { isRailEnabled, type KeyAuth } from '../activities/merchant.js';
import { MoneyError, parseAmount } from '../workflows/rules/money.js';
import { DEFAULT_RECOGNITION_GATES } from '../workflows/rules/recognition-gates.js';
import type { paymentWorkflow } from '../workflows/payment.js';
import {
  cancelPaymentUpdate,
  createPaymentUpdate,
  createUpdateId,
  resolvePaymentUpdate,
  startSearchAttributes,
  TASK_QUEUES,
  type PaymentCreateRequest,
  type PaymentView,
  type PaymentWorkflowInput,
  type ResolveRequest,
} from '../workflows/shared.js';
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

/** How long `POST /v1/payments` waits for the create Update before answering 503 (the retry attaches). */
export const CREATE_DEADLINE_MS = 20_000;

/** Creation refusals the workflow can answer, and the HTTP status each maps to. */
const CREATE_FAILURE_STATUS: Record<string, number> = { rail_unknown: 400, payment_id_conflict: 409 };

/**
 * `POST /v1/payments` is one Temporal call: Update-with-Start on the payment's workflow (workflow
 * id = the payment id reserved with the Idempotency-Key, Update id derived from it). The
 * workflow's create Update writes the row and answers the payment object, which is the answer.
 * A retried request with the same key reserves the same id, so it attaches to the same
 * workflow and the same Update and gets the same object; no row exists without its workflow.
 */
export async function createPayment(deps: CommandDeps, auth: KeyAuth, body: PaymentCreateBody, paymentId: string | null): Promise<PaymentView> {
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
  const id = paymentId ?? newId('pay');
  const input: PaymentWorkflowInput = {
    paymentId: id,
    merchantId: auth.merchantId,
    environment: auth.environment,
    rail: rail.id,
    amountMinor: amountMinor.toString(),
    monitorAfterCloseS: deps.config.monitor_after_close_s,
    underpayToleranceMinor: rail.underpay_tolerance_minor,
    recognitionGates: rail.recognition_gates ?? [...DEFAULT_RECOGNITION_GATES],
  };
  const request: PaymentCreateRequest = {
    reference: body.reference,
    metadata: body.metadata ?? {},
    expiresInS: body.expires_in_s ?? rail.payment_window_s,
    actor: `api_key:${auth.keyId}`,
  };
  const start = new WithStartWorkflowOperation<typeof paymentWorkflow>('paymentWorkflow', {
    taskQueue: TASK_QUEUES.payments,
    workflowId: id,
    args: [input],
    // A retry attaches to the running workflow; a workflow whose creation failed may run again;
    // a payment that lived and closed is never started a second time.
    workflowIdConflictPolicy: 'USE_EXISTING',
    workflowIdReusePolicy: 'ALLOW_DUPLICATE_FAILED_ONLY',
    typedSearchAttributes: startSearchAttributes({ merchantId: auth.merchantId, environment: auth.environment, rail: rail.id, status: 'awaiting_payment' }),
  });
  try {
    const view = await deps.temporal.withDeadline(Date.now() + CREATE_DEADLINE_MS, () =>
      deps.temporal.workflow.executeUpdateWithStart(createPaymentUpdate, { args: [request], updateId: createUpdateId(id), startWorkflowOperation: start }),
    );
    deps.metrics.workflowStarts.inc({ workflow: 'paymentWorkflow', result: 'started' });
    return view;
  } catch (err) {
    const cause = err instanceof WorkflowUpdateFailedError ? err.cause : undefined;
    if (cause instanceof ApplicationFailure && cause.type && CREATE_FAILURE_STATUS[cause.type]) {
      throw new ApiError(CREATE_FAILURE_STATUS[cause.type]!, CREATE_FAILURE_STATUS[cause.type] === 400 ? 'invalid_request_error' : 'state_error', cause.type, cause.message);
    }
    deps.metrics.workflowStarts.inc({ workflow: 'paymentWorkflow', result: 'failed' });
    throw new ApiError(503, 'api_error', 'orchestrator_unavailable', `Payment ${id} could not be confirmed in time; retry with the same Idempotency-Key to get it`);
  }
}

/** Owner check: another merchant's or environment's payment answers 404, as if it did not exist. */
export async function ownedPayment(pool: Pool, auth: KeyAuth, id: string): Promise<PaymentRow> {
  const row = await findPayment(pool, id);
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
  return (await findPayment(deps.pool, id))!;
}

export async function resolvePayment(deps: CommandDeps, id: string, req: ResolveRequest): Promise<PaymentRow> {
  const row = await findPayment(deps.pool, id);
  if (!row) throw notFound('payment');
  try {
    await deps.temporal.workflow.getHandle(id).executeUpdate(resolvePaymentUpdate, { args: [req] });
  } catch (err) {
    updateError(err);
  }
  return (await findPayment(deps.pool, id))!;
}
