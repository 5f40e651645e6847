// What a Temporal namespace needs before Stablerail runs on it: the namespace itself, its custom
// search attributes and the Schedules. Idempotent, so every payment worker runs it at start
// and `stablerail temporal setup` runs it by hand (for a cluster whose workers may not register).
import { Client, type Connection } from '@temporalio/client';
import { msToTs } from '@temporalio/common/lib/time.js';
import type { StablerailConfig } from '../activities/config.js';
import { RETENTION_DAYS } from './namespace.js';
import { registerSearchAttributes } from './search-attributes.js';
import { ensureSchedules } from './schedules.js';

const GRPC_NOT_FOUND = 5;
const GRPC_ALREADY_EXISTS = 6;
const GRPC_PERMISSION_DENIED = 7;
/** A namespace registered a moment ago is unknown to the other services until their caches refresh (~10 s). */
const NAMESPACE_VISIBLE_WAIT_MS = 60_000;

export interface TemporalSetup {
  namespace: string;
  namespaceCreated: boolean;
  searchAttributesAdded: string[];
  schedules: string[];
}

type Log = (obj: Record<string, unknown>, msg: string) => void;

async function ensureNamespace(connection: Connection, namespace: string): Promise<boolean> {
  try {
    await connection.workflowService.describeNamespace({ namespace });
    return false;
  } catch (err) {
    if ((err as { code?: number }).code !== GRPC_NOT_FOUND) throw err;
  }
  try {
    await connection.workflowService.registerNamespace({ namespace, workflowExecutionRetentionPeriod: msToTs(`${RETENTION_DAYS} days`) });
    return true;
  } catch (err) {
    // Another process registered it first.
    if ((err as { code?: number }).code === GRPC_ALREADY_EXISTS) return false;
    throw err;
  }
}

/** Retry `f` while the namespace is still propagating after registration; give up after a bound. */
async function whileNamespacePropagates<T>(f: () => Promise<T>): Promise<T> {
  const deadline = Date.now() + NAMESPACE_VISIBLE_WAIT_MS;
  for (;;) {
    try {
      return await f();
    } catch (err) {
      const code = (err as { code?: number }).code;
      if (Date.now() > deadline || (code !== GRPC_NOT_FOUND && !/namespace.*not found/i.test(String((err as Error).message)))) throw err;
      await new Promise((r) => setTimeout(r, 500));
    }
  }
}

export async function setupTemporal(connection: Connection, namespace: string, config: StablerailConfig, log: Log = () => undefined): Promise<TemporalSetup> {
  const namespaceCreated = await ensureNamespace(connection, namespace);
  if (namespaceCreated) log({ namespace, retention_days: RETENTION_DAYS }, 'namespace registered');
  let searchAttributesAdded: string[] = [];
  if (config.temporal.search_attributes) {
    try {
      searchAttributesAdded = await whileNamespacePropagates(() => registerSearchAttributes(connection, namespace));
    } catch (err) {
      // Temporal Cloud refuses the operator API to an API key without account rights: say what to do, keep running.
      if ((err as { code?: number }).code !== GRPC_PERMISSION_DENIED) throw err;
      log({ namespace }, 'not allowed to add search attributes: add them once with `tcld namespace search-attributes add` (temporal-config/search-attributes.ts)');
    }
  }
  const client = new Client({ connection, namespace });
  const schedules = await whileNamespacePropagates(() => ensureSchedules(client, config));
  return { namespace, namespaceCreated, searchAttributesAdded, schedules };
}
