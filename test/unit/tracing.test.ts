// Tracing is off unless the environment names an OTLP endpoint, and off means nothing installed:
// no provider, no HTTP middleware, no client or activity interceptor, a sink that drops.
// (test/tracing.test.ts proves the traced path end to end.)
import assert from 'node:assert/strict';
import { startTracing, tracingActive, tracingClientInterceptors, tracingConfigured, workerTracing } from '../../temporal-config/tracing.js';
import { httpTracing, traceLogFields } from '../../api/tracing.js';
import { WORKFLOW_INTERCEPTOR_MODULES } from '../../workers/runtime.js';
import { TRACE_HEADER as LIBRARY_TRACE_HEADER } from '@temporalio/interceptors-opentelemetry/lib/instrumentation.js';
import { TRACE_HEADER, interceptors } from '../../workflows/tracing-interceptors.js';

describe('tracing switch', () => {
  it('is on only when OTEL_EXPORTER_OTLP_TRACES_ENDPOINT or OTEL_EXPORTER_OTLP_ENDPOINT is set, and OTEL_SDK_DISABLED=true turns it off', () => {
    assert.equal(tracingConfigured({}), false);
    assert.equal(tracingConfigured({ OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: '  ' }), false, 'blank is unset');
    assert.equal(tracingConfigured({ OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'http://collector:4318/v1/traces' }), true);
    assert.equal(tracingConfigured({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318' }), true);
    assert.equal(tracingConfigured({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318', OTEL_SDK_DISABLED: 'TRUE' }), false);
    assert.equal(tracingConfigured({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318', OTEL_SDK_DISABLED: 'false' }), true);
  });

  it('without an endpoint a process registers nothing: no provider, middleware, client or activity interceptor', () => {
    const saved = { ...process.env };
    try {
      delete process.env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT;
      delete process.env.OTEL_EXPORTER_OTLP_ENDPOINT;
      assert.equal(startTracing('api'), null);
      assert.equal(tracingActive(), false);
      assert.equal(httpTracing(), null, 'the API installs no per-request middleware');
      assert.equal(tracingClientInterceptors(), undefined);
      // The workflow module is bundled either way (it passes through untraced executions); the sink drops.
      const worker = workerTracing({});
      assert.equal(worker.interceptors?.activity, undefined, 'no activity interceptor');
      assert.equal(worker.interceptors?.client, undefined, 'no client interceptor for activities');
      assert.deepEqual(worker.interceptors?.workflowModules, WORKFLOW_INTERCEPTOR_MODULES);
      assert.deepEqual(workerTracing({ workflowBundle: { code: '' } }).interceptors?.workflowModules, [], 'a prebuilt bundle carries the module itself');
      assert.deepEqual(traceLogFields(), {}, 'log lines carry no trace id');
    } finally {
      process.env = saved;
    }
  });

  it('the workflow interceptors read the library\'s trace header; an untraced execution gets next\'s own promise back, no wrapper', () => {
    assert.equal(TRACE_HEADER, LIBRARY_TRACE_HEADER);
    const { inbound, outbound } = interceptors();
    const input = { headers: {}, args: [] } as never;
    const ran = Promise.resolve('ran');
    assert.equal(inbound![0]!.execute!(input, () => ran), ran);
    const scheduled = Promise.resolve('scheduled' as never);
    assert.equal(outbound![0]!.scheduleActivity!(input, () => scheduled), scheduled);
  });
});
