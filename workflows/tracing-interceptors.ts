// The workflow side of tracing, bundled into every worker's workflow code whether or not that
// process traces (workers/runtime.ts, WORKFLOW_INTERCEPTOR_MODULES).
//
// The OpenTelemetry workflow interceptors are not neutral: they wrap activity scheduling, child
// starts and signals in async spans, which delays when a result reaches the workflow by a few
// microtasks and so can reorder commands in one activation (a payout's timer against its update's
// completion). Installing them only on traced workers would make turning tracing on, or a fleet
// where some workers trace, a nondeterminism error for running workflows. So each execution
// decides once, from its start headers, which are in its history: started by a traced client
// (the trace header is there), it runs the interceptors on every worker and every replay;
// otherwise every method passes straight through and the execution runs exactly the code it ran
// before tracing existed.
//
// The OpenTelemetry workflow library is loaded only by a traced execution. A workflow's modules
// are evaluated once per execution (each has its own module cache in the SDK's reused context),
// and the OpenTelemetry modules are half of the bundle (115 of its 219 modules): imported at the
// top, every untraced payment evaluated them. Measured on two cores (`npm run bench -- payments`,
// WAL dev server): 15.3-15.5 ms of workflow-thread CPU per payment with the static import against
// 11.8 ms with no interceptor module at all (docs/benchmarks.md). A traced execution loads it in
// `execute`, on its first activation, the same on every worker and every replay.
import type * as OtelWorkflow from '@temporalio/interceptors-opentelemetry/lib/workflow/index.js';
import type { WorkflowInboundCallsInterceptor, WorkflowInterceptors, WorkflowInternalsInterceptor, WorkflowOutboundCallsInterceptor } from '@temporalio/workflow';

/**
 * The header the OpenTelemetry client interceptor writes (the library's TRACE_HEADER, whose module
 * would pull @opentelemetry/api into every execution; test/unit/tracing.test.ts keeps them equal).
 */
export const TRACE_HEADER = '_tracer-data';

/** Webpack resolves this `require` at bundle time and evaluates the module on the first call. */
function loadWorkflowTracing(): typeof OtelWorkflow {
  return require('@temporalio/interceptors-opentelemetry/lib/workflow/index.js') as typeof OtelWorkflow;
}

interface Traced {
  inbound: OtelWorkflow.OpenTelemetryInboundInterceptor;
  outbound: OtelWorkflow.OpenTelemetryOutboundInterceptor;
  internals: OtelWorkflow.OpenTelemetryInternalsInterceptor;
}

/** Called once per workflow execution (and again when it is rebuilt for replay). */
export const interceptors = (): WorkflowInterceptors => {
  // Set by execute, which runs before any handler: buffered signals and updates of the first
  // activation are dispatched only once the workflow function registered their handlers.
  let traced: Traced | null = null;
  // Untraced, each method returns next(input) itself, not a wrapping promise: no extra microtask.
  const inbound: WorkflowInboundCallsInterceptor = {
    execute(input, next) {
      if (input.headers[TRACE_HEADER] !== undefined) {
        const otel = loadWorkflowTracing();
        traced = { inbound: new otel.OpenTelemetryInboundInterceptor(), outbound: new otel.OpenTelemetryOutboundInterceptor(), internals: new otel.OpenTelemetryInternalsInterceptor() };
      }
      return traced ? traced.inbound.execute(input, next) : next(input);
    },
    handleSignal: (input, next) => (traced ? traced.inbound.handleSignal(input, next) : next(input)),
    handleUpdate: (input, next) => (traced ? traced.inbound.handleUpdate(input, next) : next(input)),
    validateUpdate: (input, next) => (traced ? traced.inbound.validateUpdate(input, next) : next(input)),
    handleQuery: (input, next) => (traced ? traced.inbound.handleQuery(input, next) : next(input)),
  };
  const outbound: WorkflowOutboundCallsInterceptor = {
    scheduleActivity: (input, next) => (traced ? traced.outbound.scheduleActivity(input, next) : next(input)),
    scheduleLocalActivity: (input, next) => (traced ? traced.outbound.scheduleLocalActivity(input, next) : next(input)),
    startNexusOperation: (input, next) => (traced ? traced.outbound.startNexusOperation(input, next) : next(input)),
    startChildWorkflowExecution: (input, next) => (traced ? traced.outbound.startChildWorkflowExecution(input, next) : next(input)),
    continueAsNew: (input, next) => (traced ? traced.outbound.continueAsNew(input, next) : next(input)),
    signalWorkflow: (input, next) => (traced ? traced.outbound.signalWorkflow(input, next) : next(input)),
    getLogAttributes: (input, next) => (traced ? traced.outbound.getLogAttributes(input, next) : next(input)),
  };
  const internals: WorkflowInternalsInterceptor = {
    dispose: (input, next) => (traced ? traced.internals.dispose(input, next) : next(input)),
  };
  return { inbound: [inbound], outbound: [outbound], internals: [internals] };
};
