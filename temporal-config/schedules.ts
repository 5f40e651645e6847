// Temporal Schedules Stablerail keeps: reconciliation per environment. Created on start if
// missing and updated when the interval changes; overlapping runs are skipped, not queued.
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
    const input: ReconciliationInput = { environment, trigger: 'schedule', requestedBy: 'schedule' };
    const spec = { intervals: [{ every: `${config.reconciliation_interval_s}s` }] };
    try {
      await client.schedule.create({
        scheduleId,
        spec,
        policies: { overlap: ScheduleOverlapPolicy.SKIP, catchupWindow: '1 minute' },
        action: { type: 'startWorkflow', workflowType: 'reconciliationWorkflow', taskQueue: TASK_QUEUES.payments, workflowId: `recon-${environment}`, args: [input] },
      });
    } catch (err) {
      if (!(err instanceof ScheduleAlreadyRunning)) throw err;
      await client.schedule.getHandle(scheduleId).update((prev) => ({ ...prev, spec }));
    }
    ids.push(scheduleId);
  }
  return ids;
}
