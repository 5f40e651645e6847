// One workflow per payout destination (workflow id = destination id): an operator's decision,
// then the cooling-off delay on a durable timer, then the address is usable. A worker restart
// during the delay neither shortens nor restarts it.
import { ApplicationFailure, condition, proxyActivities, setHandler, sleep } from '@temporalio/workflow';
import type { DestinationActivities } from '../activities/payout-destination.js';
import { approveDestinationUpdate, rejectDestinationUpdate, type ApprovePayoutRequest, type DestinationWorkflowInput } from './payout-shared.js';

const { recordDestinationDecision } = proxyActivities<DestinationActivities>({
  startToCloseTimeout: '30 seconds',
  retry: { initialInterval: '200 milliseconds', backoffCoefficient: 2, maximumInterval: '30 seconds' },
});

/** A request nobody decides on within this many days is rejected. */
const DECISION_WINDOW_MS = 30 * 86_400_000;

export async function payoutDestinationWorkflow(input: DestinationWorkflowInput): Promise<{ status: string; usableAtMs: number | null }> {
  const state: { status: string; usableAtMs: number | null } = { status: 'pending_approval', usableAtMs: null };
  let decision: { to: 'cooling_off' | 'rejected'; req: ApprovePayoutRequest } | null = null;
  const pendingOnly = () => {
    if (state.status !== 'pending_approval' || decision) throw ApplicationFailure.nonRetryable(`destination is ${state.status}`, 'destination_not_pending_approval');
  };
  const decide = (to: 'cooling_off' | 'rejected') => async (req: ApprovePayoutRequest) => {
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
