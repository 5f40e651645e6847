// OpenTelemetry tracing: one trace from an HTTP request through the workflow it starts or updates
// to the activities that workflow runs, across the API and worker processes (Temporal carries the
// context in the headers of starts, updates, signals and activity tasks).
//
// Off unless OTEL_EXPORTER_OTLP_TRACES_ENDPOINT or OTEL_EXPORTER_OTLP_ENDPOINT names a collector
// (OTEL_SDK_DISABLED=true turns it off again). Off means no tracer provider is registered (the
// OpenTelemetry API hands out its no-op tracer), no HTTP middleware, no client or activity
// interceptor, and a sink that drops. The workflow interceptors are bundled either way but pass
// straight through for an execution no traced client started (workflows/tracing-interceptors.ts
// says why). On, spans go in batches (OTEL_BSP_*) as OTLP/HTTP JSON to that endpoint; the
// exporter reads the standard OTEL_EXPORTER_OTLP_* variables (headers, timeout) itself, and the
// provider reads OTEL_TRACES_SAMPLER. docs/operations.md#tracing lists the spans.
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { Resource, envDetectorSync } from '@opentelemetry/resources';
import { BasicTracerProvider, BatchSpanProcessor, type SpanProcessor } from '@opentelemetry/sdk-trace-base';
import {
  OpenTelemetryActivityInboundInterceptor,
  OpenTelemetryActivityOutboundInterceptor,
  OpenTelemetryWorkflowClientInterceptor,
  makeWorkflowExporter,
  type OpenTelemetrySinks,
} from '@temporalio/interceptors-opentelemetry';
import type { ClientInterceptors } from '@temporalio/client';
import type { InjectedSinks, WorkerOptions } from '@temporalio/worker';
import { WORKFLOW_INTERCEPTOR_MODULES } from '../workers/runtime.js';

/** The process kinds, each its own `service.name` (`stablerail-api`, `stablerail-worker`, …). */
export type ProcessKind = 'api' | 'worker' | 'chain-worker' | 'webhook-worker' | 'payout-worker' | 'dev';

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
 * Spans of traced executions this worker runs while it does not trace (a fleet turning tracing on
 * one process at a time) are dropped here rather than logged as calls to a missing sink.
 */
const DROP_WORKFLOW_SPANS: InjectedSinks<OpenTelemetrySinks> = { exporter: { export: { fn: () => undefined } } };

/**
 * A worker's share. Always: the workflow interceptor module in the bundle the worker builds (a
 * prebuilt bundle carries it already) and the `exporter` sink. When this process traces: the sink
 * exports, and the activity interceptors make a RunActivity span under the workflow's
 * StartActivity (and put the trace id on the SDK's activity log attributes).
 */
export function workerTracing(o: { workflowBundle?: unknown }): Pick<WorkerOptions, 'interceptors' | 'sinks'> {
  const workflowModules = o.workflowBundle ? [] : WORKFLOW_INTERCEPTOR_MODULES;
  if (!active) return { interceptors: { workflowModules }, sinks: DROP_WORKFLOW_SPANS };
  return {
    interceptors: {
      workflowModules,
      activity: [(ctx) => ({ inbound: new OpenTelemetryActivityInboundInterceptor(ctx), outbound: new OpenTelemetryActivityOutboundInterceptor(ctx) })],
      // Activities that start or signal workflows through their context's client carry the trace on.
      client: { workflow: [new OpenTelemetryWorkflowClientInterceptor()] },
    },
    sinks: { exporter: makeWorkflowExporter(active.processor, active.resource) },
  };
}
