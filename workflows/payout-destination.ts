// One workflow per payout destination (workflow id = destination id): its create step writes
// the allowlist row (the API writes nothing), then an operator's decision, then the cooling-off
// delay on a durable timer, then the address is usable. A worker restart during the delay
// neither shortens nor restarts it.
import { allHandlersFinished, ApplicationFailure, condition, proxyActivities, setHandler, sleep } from '@temporalio/workflow';
import type { DestinationActivities } from '../activities/payout-destination.js';
import {
  approveDestinationUpdate,
  createDestinationUpdate,
  rejectDestinationUpdate,
  refusalOf,
  type ApprovePayoutRequest,
  type DestinationView,
  type DestinationWorkflowInput,
  type DestinationWorkflowState,
} from './payout-shared.js';

const { recordDestinationDecision, createDestinationRecord } = proxyActivities<DestinationActivities>({
  startToCloseTimeout: '30 seconds',
  retry: { initialInterval: '200 milliseconds', backoffCoefficient: 2, maximumInterval: '30 seconds' },
});

/** A request nobody decides on within this many days is rejected. */
const DECISION_WINDOW_MS = 30 * 86_400_000;

/** Runs the destination, then lets every Update in flight answer before the workflow closes. */
export async function payoutDestinationWorkflow(input: DestinationWorkflowInput): Promise<DestinationWorkflowState> {
  const result = await runDestination(input);
  await condition(allHandlersFinished);
  return result;
}

async function runDestination(input: DestinationWorkflowInput): Promise<DestinationWorkflowState> {
  const state: DestinationWorkflowState = { status: 'pending_approval', usableAtMs: null, refused: null };

  // The create step, once; the create Update (Update-with-Start from the API) and the workflow both await it.
  let creating: Promise<DestinationView> | null = null;
  let created = !input.create; // an older destination's row was written by the API
  function ensureCreated(): Promise<DestinationView> {
    creating ??= createDestinationRecord({ destinationId: input.destinationId, create: input.create! }).then(
      (view) => {
        created = true;
        return view;
      },
      (err: unknown) => {
        state.refused = refusalOf(err, 'destination_refused');
        throw ApplicationFailure.nonRetryable(state.refused.message, state.refused.code, state.refused);
      },
    );
    return creating;
  }
  setHandler(createDestinationUpdate, () => ensureCreated(), {
    validator: () => {
      if (!input.create) throw ApplicationFailure.nonRetryable('this destination was created before its workflow', 'destination_created_elsewhere');
    },
  });

  let decision: { to: 'cooling_off' | 'rejected'; req: ApprovePayoutRequest } | null = null;
  const pendingOnly = () => {
    if (state.status !== 'pending_approval' || decision) throw ApplicationFailure.nonRetryable(`destination is ${state.status}`, 'destination_not_pending_approval');
  };
  const decide = (to: 'cooling_off' | 'rejected') => async (req: ApprovePayoutRequest) => {
    // A decision waits for the row; a refused request has none to decide on.
    if (!created) await condition(() => created || state.refused != null);
    if (state.refused) throw ApplicationFailure.nonRetryable(`destination ${input.destinationId} was refused: ${state.refused.code}`, 'destination_not_created');
    pendingOnly();
    decision = { to, req };
    state.usableAtMs = to === 'cooling_off' ? Date.now() + input.coolingOffS * 1000 : null;
    await recordDestinationDecision({ destinationId: input.destinationId, status: to, actor: req.operator, reason: req.reason, usableAtMs: state.usableAtMs });
    state.status = to;
    return { ...state };
  };
  const validator = (req: ApprovePayoutRequest) => {
    if (!req?.operator || !req?.reason) throw ApplicationFailure.nonRetryable('operator and reason are required', 'parameter_missing');
  };
  setHandler(approveDestinationUpdate, decide('cooling_off'), { validator });
  setHandler(rejectDestinationUpdate, decide('rejected'), { validator });

  // Nothing waits for a decision before the row exists; a refused request ends here, unwritten.
  if (input.create && !(await ensureCreated().then(() => true, () => false))) return { ...state };

  if (!(await condition(() => state.status !== 'pending_approval', DECISION_WINDOW_MS))) {
    decision = { to: 'rejected', req: { operator: 'system', reason: 'no decision within 30 days' } };
    await recordDestinationDecision({ destinationId: input.destinationId, status: 'rejected', actor: 'system', reason: 'decision_window_elapsed', usableAtMs: null });
    return { status: 'rejected', usableAtMs: null };
  }
  if (state.status === 'rejected') return { ...state };
  await sleep(Math.max(0, (state.usableAtMs ?? 0) - Date.now()));
  await recordDestinationDecision({ destinationId: input.destinationId, status: 'active', actor: 'system', reason: null, usableAtMs: state.usableAtMs });
  state.status = 'active';
  return { ...state };
}
