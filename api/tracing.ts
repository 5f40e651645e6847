// One SERVER span per HTTP request, the root of the trace the Temporal client interceptor carries
// into the workflow (temporal-config/tracing.ts). Installed only when tracing is on, so an
// untraced API runs no tracing code per request.
import { ROOT_CONTEXT, SpanKind, SpanStatusCode, context, trace } from '@opentelemetry/api';
import type { RequestHandler } from 'express';
import { tracingActive } from '../temporal-config/tracing.js';

/** Probes and scrapes: a span every few seconds per load balancer and Prometheus, telling nothing. */
const UNTRACED_PATHS = new Set(['/healthz', '/readyz', '/metrics']);

/**
 * Each request starts its own trace: the API faces merchants and the internet, so an incoming
 * `traceparent` is not trusted to choose the trace id or force sampling. The span is named by
 * the route pattern (`POST /v1/payments`), never the raw URL, which can carry public ids.
 */
export function httpTracing(): RequestHandler | null {
  if (!tracingActive()) return null;
  const tracer = trace.getTracer('stablerail-api');
  return (req, res, next) => {
    if (UNTRACED_PATHS.has(req.path)) return next();
    const span = tracer.startSpan(req.method, { kind: SpanKind.SERVER, attributes: { 'http.request.method': req.method } }, ROOT_CONTEXT);
    const ctx = trace.setSpan(ROOT_CONTEXT, span);
    // The body parser resumes on the request stream's events, which run in the socket's async
    // context; binding the emitters keeps this span active for the handler after it.
    context.bind(ctx, req);
    context.bind(ctx, res);
    let ended = false;
    res.once('close', () => {
      if (ended) return;
      ended = true;
      const route = req.route?.path as string | undefined;
      if (route) {
        span.updateName(`${req.method} ${route}`);
        span.setAttribute('http.route', route);
      }
      span.setAttribute('http.response.status_code', res.statusCode);
      // A response cut before it finished (the client went away) is an error too.
      if (res.statusCode >= 500 || !res.writableFinished) span.setStatus({ code: SpanStatusCode.ERROR });
      span.end();
    });
    context.with(ctx, next);
  };
}

/**
 * The active span's trace id for a log line, so an operator goes from a request's log to its
 * trace and back; nothing when the process does not trace (no span is ever active then).
 */
export function traceLogFields(): { trace_id?: string } {
  const span = trace.getActiveSpan();
  return span ? { trace_id: span.spanContext().traceId } : {};
}
