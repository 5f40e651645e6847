// Tracing is off unless the environment names an OTLP endpoint, and off means nothing installed:
// no provider, no HTTP middleware, no Temporal interceptor, workflow module or sink.
// (test/tracing.test.ts proves the traced path end to end.)
import assert from 'node:assert/strict';
import { startTracing, tracingActive, tracingClientInterceptors, tracingConfigured, workerTracing } from '../../temporal-config/tracing.js';
import { httpTracing, traceLogFields } from '../../api/tracing.js';

describe('tracing switch', () => {
  it('is on only when OTEL_EXPORTER_OTLP_TRACES_ENDPOINT or OTEL_EXPORTER_OTLP_ENDPOINT is set, and OTEL_SDK_DISABLED=true turns it off', () => {
    assert.equal(tracingConfigured({}), false);
    assert.equal(tracingConfigured({ OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: '  ' }), false, 'blank is unset');
    assert.equal(tracingConfigured({ OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'http://collector:4318/v1/traces' }), true);
    assert.equal(tracingConfigured({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318' }), true);
    assert.equal(tracingConfigured({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318', OTEL_SDK_DISABLED: 'TRUE' }), false);
    assert.equal(tracingConfigured({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318', OTEL_SDK_DISABLED: 'false' }), true);
  });

  it('without an endpoint a process registers nothing: no provider, middleware, client interceptor, worker interceptor or sink', () => {
    const saved = { ...process.env };
    try {
      delete process.env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT;
      delete process.env.OTEL_EXPORTER_OTLP_ENDPOINT;
      assert.equal(startTracing('api'), null);
      assert.equal(tracingActive(), false);
      assert.equal(httpTracing(), null, 'the API installs no per-request middleware');
      assert.equal(tracingClientInterceptors(), undefined);
      assert.deepEqual(workerTracing(), {}, 'workers get no interceptors, workflow module or sink');
      assert.deepEqual(traceLogFields(), {}, 'log lines carry no trace id');
    } finally {
      process.env = saved;
    }
  });
});
