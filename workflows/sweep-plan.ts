// Planning a sweep reads the chain and asks the signer for the treasury address, which only
// the payouts worker may do: the API runs this one-activity workflow and waits for its answer.
import { ApplicationFailure, proxyActivities } from '@temporalio/workflow';
import type { SweepActivities } from '../activities/sweep.js';

const { planSweepActivity } = proxyActivities<SweepActivities>({
  startToCloseTimeout: '2 minutes',
  retry: { initialInterval: '500 milliseconds', maximumAttempts: 3, nonRetryableErrorTypes: ['DomainError'] },
});

export async function sweepPlanWorkflow(o: { environment: 'sandbox' | 'live'; rail: string; minAmountMinor: string; operator: string }): Promise<string> {
  try {
    return await planSweepActivity(o);
  } catch (err) {
    const cause = (err as { cause?: unknown }).cause;
    if (cause instanceof ApplicationFailure) throw ApplicationFailure.nonRetryable(cause.message, cause.type);
    throw err;
  }
}
