// The process-wide pieces every worker shares: the SDK runtime and the one workflow bundle entry.
import { fileURLToPath } from 'node:url';
import { DefaultLogger, Runtime } from '@temporalio/worker';

let runtimeInstalled = false;
/** The SDK's own logs at WARN: bundling chatter at INFO would drown the JSON logs. */
export function installWorkerRuntime(): void {
  if (runtimeInstalled) return;
  runtimeInstalled = true;
  try {
    Runtime.install({ logger: new DefaultLogger((process.env.TEMPORAL_LOG_LEVEL as 'WARN' | undefined) ?? 'WARN') });
  } catch { /* already installed by the host process */ }
}

export const WORKFLOWS_PATH = fileURLToPath(new URL('../workflows/index.ts', import.meta.url));
