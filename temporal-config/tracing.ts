// OpenTelemetry tracing: one trace from an HTTP request through the workflow it starts or updates
// to the activities that workflow runs, across the API and worker processes (Temporal carries the
// context in the headers of starts, updates, signals and activity tasks).
//
// Off unless OTEL_EXPORTER_OTLP_TRACES_ENDPOINT or OTEL_EXPORTER_OTLP_ENDPOINT names a collector
// (OTEL_SDK_DISABLED=true turns it off again). Off means no tracer provider is registered, so the
// OpenTelemetry API hands out its no-op tracer, and no Temporal interceptor, workflow interceptor
// module or sink is installed: an untraced process runs exactly the code it ran before tracing
// existed. On, spans go in batches (OTEL_BSP_*) as OTLP/HTTP JSON to that endpoint; the exporter
// reads the standard OTEL_EXPORTER_OTLP_* variables (headers, timeout) itself, and the provider
// reads OTEL_TRACES_SAMPLER. docs/operations.md#tracing lists the spans.
import { createRequire } from 'node:module';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { Resource, envDetectorSync } from '@opentelemetry/resources';
import { BasicTracerProvider, BatchSpanProcessor, type SpanProcessor } from '@opentelemetry/sdk-trace-base';
import {
  OpenTelemetryActivityInboundInterceptor,
  OpenTelemetryActivityOutboundInterceptor,
  OpenTelemetryWorkflowClientInterceptor,
  makeWorkflowExporter,
} from '@temporalio/interceptors-opentelemetry';
import type { ClientInterceptors } from '@temporalio/client';
import type { WorkerOptions } from '@temporalio/worker';

/** The process kinds, each its own `service.name` (`stablerail-api`, `stablerail-worker`, …). */
export type ProcessKind = 'api' | 'worker' | 'chain-worker' | 'webhook-worker' | 'payout-worker' | 'dev';

/**
 * The package's workflow interceptors, bundled into the workflow code when tracing is on: they
 * make the RunWorkflow, HandleUpdate, HandleSignal and StartActivity spans inside the sandbox and
 * hand them out through the `exporter` sink. A prebuilt bundle (STABLERAIL_WORKFLOW_BUNDLE) must
 * have been built with this module in `workflowInterceptorModules` to trace workflows.
 */
export const TRACING_WORKFLOW_MODULE = createRequire(import.meta.url).resolve('@temporalio/interceptors-opentelemetry/lib/workflow-interceptors');

interface Tracing {
  serviceName: string;
  provider: BasicTracerProvider;
  processor: SpanProcessor;
  resource: Resource;
}

let active: Tracing | null = null;

/** Whether the environment names an OTLP endpoint for traces (and the SDK is not disabled). */
export function tracingConfigured(env: NodeJS.ProcessEnv = process.env): boolean {
  if (env.OTEL_SDK_DISABLED?.trim().toLowerCase() === 'true') return false;
  return Boolean(env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT?.trim() || env.OTEL_EXPORTER_OTLP_ENDPOINT?.trim());
}

/** True once startTracing registered a provider in this process. */
export const tracingActive = (): boolean => active !== null;

/**
 * Register the process's tracer provider when an endpoint is configured; a no-op otherwise.
 * Call it at process start, before the Temporal client and workers are made: they read the
 * interceptors from here when they are created. OTEL_SERVICE_NAME overrides the kind's name.
 */
export function startTracing(kind: ProcessKind): { serviceName: string } | null {
  if (active) return { serviceName: active.serviceName };
  if (!tracingConfigured()) return null;
  // The environment's resource (OTEL_SERVICE_NAME, OTEL_RESOURCE_ATTRIBUTES) wins over the default name.
  const resource = new Resource({ 'service.name': `stablerail-${kind}` }).merge(envDetectorSync.detect());
  const processor = new BatchSpanProcessor(new OTLPTraceExporter());
  const provider = new BasicTracerProvider({ resource, spanProcessors: [processor] });
  // AsyncLocalStorage carries the active span from the HTTP middleware to the Temporal client
  // interceptor across the route's awaits; the propagator (OTEL_PROPAGATORS, default W3C trace
  // context and baggage) is what the Temporal interceptors write into headers.
  provider.register({ contextManager: new AsyncLocalStorageContextManager().enable() });
  active = { serviceName: String(resource.attributes['service.name']), provider, processor, resource };
  return { serviceName: active.serviceName };
}

/** Export what is buffered and stop (at the end of a drain, so the last requests' spans leave). */
export async function stopTracing(): Promise<void> {
  const t = active;
  if (!t) return;
  active = null;
  await t.provider.shutdown().catch(() => undefined);
}

/**
 * The Temporal client's interceptors: each start, Update-with-Start, update and signal gets a
 * span under the caller's active span, and its context travels in the request's headers.
 */
export function tracingClientInterceptors(): Pick<ClientInterceptors, 'workflow'> | undefined {
  if (!active) return undefined;
  return { workflow: [new OpenTelemetryWorkflowClientInterceptor()] };
}

/**
 * A worker's share: the workflow interceptors (bundled when the worker bundles its workflows),
 * the sink that turns the sandbox's spans into exported ones, and the activity interceptors
 * (a RunActivity span under the workflow's StartActivity, and the trace id on activity logs).
 */
export function workerTracing(): Pick<WorkerOptions, 'interceptors' | 'sinks'> {
  if (!active) return {};
  return {
    interceptors: {
      workflowModules: [TRACING_WORKFLOW_MODULE],
      activity: [(ctx) => ({ inbound: new OpenTelemetryActivityInboundInterceptor(ctx), outbound: new OpenTelemetryActivityOutboundInterceptor(ctx) })],
      // Activities that start or signal workflows through their context's client carry the trace on.
      client: { workflow: [new OpenTelemetryWorkflowClientInterceptor()] },
    },
    sinks: { exporter: makeWorkflowExporter(active.processor, active.resource) },
  };
}
