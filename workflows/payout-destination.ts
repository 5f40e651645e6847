// One workflow per payout destination (workflow id = destination id): its create step writes
// the allowlist row (the API writes nothing), then an operator's decision, then the cooling-off
// delay on a durable timer, then the address is usable. A worker restart during the delay
// neither shortens nor restarts it.
import { allHandlersFinished, ApplicationFailure, condition, getExternalWorkflowHandle, log, patched, proxyActivities, setHandler, sleep } from '@temporalio/workflow';
import type { DestinationActivities } from '../activities/payout-destination.js';
import {
  approveDestinationUpdate,
  createDestinationUpdate,
  rejectDestinationUpdate,
  revokeDestinationUpdate,
  cancelPayoutSignal,
  refusalOf,
  type ApprovePayoutRequest,
  type DestinationView,
  type DestinationWorkflowInput,
  type DestinationWorkflowState,
  type RevokeDestinationRequest,
} from './payout-shared.js';

/** The cooling-off wait ends early on a revocation (new destinations); older histories slept through it. */
export const DESTINATION_REVOCABLE_PATCH = 'destination-revocable-cooling-off';

const { recordDestinationDecision, createDestinationRecord, revokeDestinationRecord } = proxyActivities<DestinationActivities>({
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
  // A revoke-only run takes no decisions: its destination was decided by its first run.
  const state: DestinationWorkflowState = { status: input.revokeOnly ? 'revoking' : 'pending_approval', usableAtMs: null, refused: null };

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

  // Revocation, by an approver or the merchant, at any time: the row first (no new payout to the
  // address from then on), then the payouts still waiting for approval are called off.
  let revoking: Promise<unknown> = Promise.resolve();
  setHandler(
    revokeDestinationUpdate,
    (req: RevokeDestinationRequest) => {
      const next = revoking.then(async () => {
        if (!created) await condition(() => created || state.refused != null);
        if (state.refused) throw ApplicationFailure.nonRetryable(`destination ${input.destinationId} was refused: ${state.refused.code}`, 'destination_not_created');
        let pending: string[];
        try {
          pending = (await revokeDestinationRecord({ destinationId: input.destinationId, actor: req.actor, reason: req.reason })).pendingPayouts;
        } catch (err) {
          const r = refusalOf(err, 'destination_not_revocable');
          throw ApplicationFailure.nonRetryable(r.message, r.code, r);
        }
        state.status = 'revoked';
        state.usableAtMs = null;
        for (const id of pending) {
          await getExternalWorkflowHandle(id)
            .signal(cancelPayoutSignal, { actor: req.actor, reason: `destination revoked: ${req.reason}` })
            .catch((e) => log.warn('payout not told of its revoked destination', { payoutId: id, error: String(e) }));
        }
        return { ...state };
      });
      revoking = next.catch(() => undefined);
      return next;
    },
    { validator: (req: RevokeDestinationRequest) => { if (!req?.actor || !req?.reason) throw ApplicationFailure.nonRetryable('actor and reason are required', 'parameter_missing'); } },
  );

  // A run started only to revoke an address whose first workflow has ended: it lives for that Update.
  if (input.revokeOnly) {
    await condition(() => state.status === 'revoked' || state.refused != null);
    return { ...state };
  }

  // Nothing waits for a decision before the row exists; a refused request ends here, unwritten.
  if (input.create && !(await ensureCreated().then(() => true, () => false))) return { ...state };

  if (!(await condition(() => state.status !== 'pending_approval', DECISION_WINDOW_MS))) {
    decision = { to: 'rejected', req: { operator: 'system', reason: 'no decision within 30 days' } };
    await recordDestinationDecision({ destinationId: input.destinationId, status: 'rejected', actor: 'system', reason: 'decision_window_elapsed', usableAtMs: null });
    return { status: 'rejected', usableAtMs: null };
  }
  if (state.status === 'rejected' || state.status === 'revoked') return { ...state };
  const wait = Math.max(0, (state.usableAtMs ?? 0) - Date.now());
  if (patched(DESTINATION_REVOCABLE_PATCH)) {
    if (await condition(() => state.status === 'revoked', wait)) return { ...state };
  } else {
    await sleep(wait);
  }
  await recordDestinationDecision({ destinationId: input.destinationId, status: 'active', actor: 'system', reason: null, usableAtMs: state.usableAtMs });
  state.status = 'active';
  return { ...state };
}
