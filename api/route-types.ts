// The shapes every route module shares: what a handler receives (Ctx, with the app's
// dependencies) and what a route table entry declares. Types only, so any route module may
// import them without importing the route table.
import type { Request } from 'express';
import type { Client } from '@temporalio/client';
import type { Pool } from '../activities/db.js';
import type { StablerailConfig } from '../activities/config.js';
import type { KeyAuth, Scope } from '../activities/merchant.js';
import type { OperatorAuth } from '../activities/operators.js';
import type { SchemaName } from './schemas.js';
import type { CommandDeps } from './payment-commands.js';
import type { Metrics } from './metrics.js';

export interface AppDeps extends CommandDeps {
  pool: Pool;
  /** Set by `npm start`: not ready until dev.json is written, so a script that waits for /readyz can read it. */
  readiness?: { ready: boolean };
  /** The Temporal Web UI, for links from the console to each payment's history. */
  temporalUiUrl?: string | null;
  /** Asynchronous-commit pool for idempotency bookkeeping (see createRelaxedPool). */
  relaxedPool?: Pool;
  config: StablerailConfig;
  temporal: Client;
  metrics: Metrics;
  /** Seals webhook endpoint secrets at rest. */
  masterKey: Buffer;
  /**
   * The local devnet's funded payer, when this process runs the devnet (`npm start`, tests).
   * Without it the devnet-only routes (Simulate payment) do not exist: never in live.
   */
  devnetPayer?: { privateKey: string } | null;
}

export interface Ctx {
  req: Request;
  deps: AppDeps;
  auth: KeyAuth | null;
  /** The authenticated operator on /v1/admin routes: from their credential, never from the request body. */
  operator: OperatorAuth | null;
  /** Headers a handler sets on its answer (a console session's cookie). */
  outHeaders: Record<string, string>;
  body: any;
  query: any;
  params: Record<string, string>;
  /** A resource id reserved by the idempotency claim, reused when a retry takes over. */
  resourceId: string | null;
  /** True when this request resumes a claim whose first holder died: the resource may already exist. */
  takeover: boolean;
}

export interface RouteDef {
  method: 'get' | 'post' | 'delete';
  path: string; // express syntax, :param
  summary: string;
  auth: 'merchant' | 'admin' | 'public';
  scope?: Scope;
  body?: SchemaName;
  query?: SchemaName;
  /** Prefix of the id the handler creates, reserved with the idempotency claim. */
  createsIdPrefix?: string;
  status?: number;
  /** What the idempotency record keeps for a replay, when the answer carries a secret shown once. */
  storedResponse?: (out: unknown) => unknown;
  handler: (ctx: Ctx) => Promise<unknown>;
  /** Mounted (and in /openapi.json) only where the process runs the devnet (deps.devnetPayer). */
  devnetOnly?: boolean;
}
