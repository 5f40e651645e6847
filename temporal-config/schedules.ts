// Temporal Schedules Stablerail keeps: reconciliation per environment. Created on start if
// missing and updated when the interval or grace changes; overlapping runs are skipped, not queued.
import { ScheduleAlreadyRunning, ScheduleOverlapPolicy, type Client } from '@temporalio/client';
import type { StablerailConfig } from '../activities/config.js';
import { TASK_QUEUES, type ReconciliationInput } from '../workflows/shared.js';

export const reconciliationScheduleId = (environment: string): string => `reconciliation-${environment}`;

export async function ensureSchedules(client: Client, config: StablerailConfig): Promise<string[]> {
  if (config.reconciliation_interval_s === 0) return [];
  const environments = [...new Set(config.rails.flatMap((r) => r.environments))];
  const ids: string[] = [];
  for (const environment of environments) {
    const scheduleId = reconciliationScheduleId(environment);
    const input: ReconciliationInput = { environment, trigger: 'schedule', requestedBy: 'schedule', graceS: config.reconciliation_grace_s };
    const spec = { intervals: [{ every: `${config.reconciliation_interval_s}s` }] };
    const action = { type: 'startWorkflow' as const, workflowType: 'reconciliationWorkflow', taskQueue: TASK_QUEUES.payments, workflowId: `recon-${environment}`, args: [input] };
    try {
      await client.schedule.create({
        scheduleId,
        spec,
        policies: { overlap: ScheduleOverlapPolicy.SKIP, catchupWindow: '1 minute' },
        action,
      });
    } catch (err) {
      if (!(err instanceof ScheduleAlreadyRunning)) throw err;
      // The devnet's short interval and grace, or production's, whichever this start configures.
      await client.schedule.getHandle(scheduleId).update((prev) => ({ ...prev, spec, action }));
    }
    ids.push(scheduleId);
  }
  return ids;
}
