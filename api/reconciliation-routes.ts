// Reconciliation over HTTP: start a run (a workflow), read it with its breaks as JSON or CSV;
// for operators, list and resolve breaks and chain exceptions, each decision audited.
import { chainExceptionObject, listChainExceptions, resolveChainException } from '../activities/chain-exceptions.js';
import { CHAIN_EXCEPTIONS_LISTED_MAX, chainExceptionById } from '../activities/repositories/chain-exceptions.js';
import { operatorOf } from './operator.js';
import type { Ctx, RouteDef } from './route-types.js';
import { CsvBody } from './csv.js';
import { WithStartWorkflowOperation, WorkflowExecutionAlreadyStartedError } from '@temporalio/client';
import { breakObject, breaksCsv, newRunId, resolveBreak, runObject } from '../activities/reconciliation.js';
import { BREAK_QUEUE_MAX, breakExists, breaksInStatus, findRun, latestRuns, breaksFoundByRun, runExists, RUNS_PAGE_DEFAULT } from '../activities/repositories/reconciliation.js';
import { reconciliationStartedUpdate, TASK_QUEUES, type ReconciliationInput } from '../workflows/shared.js';
import type { reconciliationWorkflow } from '../workflows/reconciliation.js';
import { ApiError, badRequest, notFound } from './errors.js';

async function startRun(ctx: Ctx, input: Omit<ReconciliationInput, 'runId'>) {
  const runId = ctx.resourceId ?? newRunId();
  // One Temporal call: the run's workflow writes its row and answers once it exists, so no row
  // says running without a workflow. A retry (same Idempotency-Key, same id) attaches to it.
  const startWorkflowOperation = new WithStartWorkflowOperation<typeof reconciliationWorkflow>('reconciliationWorkflow', {
    taskQueue: TASK_QUEUES.payments, workflowId: runId, args: [{ ...input, runId }], workflowIdConflictPolicy: 'USE_EXISTING', workflowIdReusePolicy: 'REJECT_DUPLICATE',
  });
  try {
    await ctx.deps.temporal.workflow.executeUpdateWithStart(reconciliationStartedUpdate, { startWorkflowOperation, updateId: `start:${runId}`, args: [] });
  } catch (err) {
    // Already ended: it wrote its row, which the answer below describes.
    if (!(err instanceof WorkflowExecutionAlreadyStartedError) || !(await findRun(ctx.deps.pool, runId))) {
      throw new ApiError(503, 'api_error', 'orchestrator_unavailable', 'The run could not start yet; retry with the same Idempotency-Key');
    }
  }
  return { id: runId, object: 'reconciliation_run', status: 'running', environment: input.environment, merchant_id: input.merchantId ?? null };
}

async function readRun(ctx: Ctx, merchantId?: string) {
  const run = /^rec_[0-9A-Za-z]{24}$/.test(ctx.params.id!) ? await findRun(ctx.deps.pool, ctx.params.id!, merchantId) : undefined;
  if (!run || (merchantId && run.environment !== ctx.auth!.environment)) throw notFound('reconciliation run');
  const breaks = run.status === 'completed' ? await breaksFoundByRun(ctx.deps.pool, run.id) : [];
  if (ctx.query.format === 'csv') return new CsvBody(`reconciliation-${run.id}.csv`, breaksCsv(ctx.deps.config, breaks));
  return runObject(ctx.deps.config, run, breaks);
}

/** A resolve that found nothing open: closed by someone else (a conflict), or no such thing at all. */
function notOpen(exists: boolean, code: string, what: string): ApiError {
  return exists ? new ApiError(409, 'invalid_request_error', code, `This ${what} is already resolved`, 'id') : notFound(what);
}

export const reconciliationRoutes: RouteDef[] = [
  {
    method: 'post', path: '/v1/reconciliation/runs', summary: 'Start a reconciliation run over your orders, payments, transfers and ledger', auth: 'merchant', scope: 'reconciliation:write',
    body: 'ReconciliationRunCreate', createsIdPrefix: 'rec', status: 201,
    handler: (ctx) => startRun(ctx, { environment: ctx.auth!.environment, merchantId: ctx.auth!.merchantId, trigger: 'api', requestedBy: `api_key:${ctx.auth!.keyId}`, graceS: ctx.body.grace_s }),
  },
  {
    method: 'get', path: '/v1/reconciliation/runs/:id', summary: 'A run with its breaks, counts and drift per asset; format=csv for the breaks', auth: 'merchant', scope: 'reconciliation:read', query: 'FormatOnly',
    handler: (ctx) => readRun(ctx, ctx.auth!.merchantId),
  },
  {
    method: 'post', path: '/v1/admin/reconciliation/runs', summary: 'Start a run for an environment (all merchants) or one merchant', auth: 'admin', body: 'AdminReconciliationRunCreate', createsIdPrefix: 'rec', status: 201,
    handler: (ctx) => startRun(ctx, { environment: ctx.body.environment ?? 'sandbox', merchantId: ctx.body.merchant_id ?? null, trigger: 'operator', requestedBy: operatorOf(ctx), graceS: ctx.body.grace_s }),
  },
  { method: 'get', path: '/v1/admin/reconciliation/runs/:id', summary: 'A run with its breaks; format=csv', auth: 'admin', query: 'FormatOnly', handler: (ctx) => readRun(ctx) },
  {
    method: 'get', path: '/v1/admin/reconciliation/runs', summary: 'Runs, newest first (limit, starting_after)', auth: 'admin', query: 'RunList',
    handler: async (ctx) => {
      const limit: number = ctx.query.limit ?? RUNS_PAGE_DEFAULT;
      const startingAfter: string | null = ctx.query.starting_after ?? null;
      if (startingAfter && !(await runExists(ctx.deps.pool, startingAfter))) throw badRequest('cursor_invalid', 'starting_after does not name a reconciliation run', 'starting_after');
      const rows = await latestRuns(ctx.deps.pool, { limit: limit + 1, startingAfter });
      return { object: 'list', data: rows.slice(0, limit).map((r) => runObject(ctx.deps.config, r)), has_more: rows.length > limit };
    },
  },
  {
    method: 'get', path: '/v1/admin/reconciliation/breaks', summary: 'Open breaks: the operators\' exceptions queue for reconciliation', auth: 'admin', query: 'BreakList',
    handler: async (ctx) => {
      const limit: number = ctx.query.limit ?? BREAK_QUEUE_MAX;
      const startingAfter: string | null = ctx.query.starting_after ?? null;
      if (startingAfter && !(await breakExists(ctx.deps.pool, startingAfter))) throw badRequest('cursor_invalid', 'starting_after does not name a reconciliation break', 'starting_after');
      const rows = await breaksInStatus(ctx.deps.pool, ctx.query.status ?? 'open', { limit: limit + 1, startingAfter });
      return { object: 'list', data: rows.slice(0, limit).map((b) => breakObject(ctx.deps.config, b)), has_more: rows.length > limit };
    },
  },
  {
    method: 'get', path: '/v1/admin/chain_exceptions', summary: 'Money on chain that matched no open payment (unmatched, or reaching a closed payment): the operators\' queue, newest first', auth: 'admin', query: 'ChainExceptionList',
    handler: async (ctx) => {
      const limit: number = ctx.query.limit ?? CHAIN_EXCEPTIONS_LISTED_MAX;
      const rows = await listChainExceptions(ctx.deps.pool, ctx.query.status ?? 'open', { limit, startingAfter: ctx.query.starting_after ?? null });
      if (!rows) throw badRequest('cursor_invalid', 'starting_after does not name a chain exception', 'starting_after');
      return { object: 'list', data: rows.slice(0, limit).map((e) => chainExceptionObject(ctx.deps.config, e)), has_more: rows.length > limit };
    },
  },
  {
    method: 'post', path: '/v1/admin/chain_exceptions/:id/resolve', summary: 'Close a chain exception with a resolution and a reason (evidence)', auth: 'admin', body: 'ChainExceptionResolve',
    handler: async (ctx) => {
      const e = await resolveChainException(ctx.deps.pool, ctx.params.id!, operatorOf(ctx), ctx.body.resolution, ctx.body.reason);
      if (!e) throw notOpen(!!(await chainExceptionById(ctx.deps.pool, ctx.params.id!)), 'chain_exception_not_open', 'chain exception');
      return chainExceptionObject(ctx.deps.config, e);
    },
  },
  {
    method: 'post', path: '/v1/admin/reconciliation/breaks/:id/resolve', summary: 'Resolve a break with a decision and reason (evidence); it never reopens', auth: 'admin', body: 'BreakResolve',
    handler: async (ctx) => {
      const b = await resolveBreak(ctx.deps.pool, ctx.params.id!, operatorOf(ctx), ctx.body.resolution, ctx.body.reason);
      if (!b) throw notOpen(await breakExists(ctx.deps.pool, ctx.params.id!), 'break_not_open', 'break');
      return breakObject(ctx.deps.config, b);
    },
  },
];
