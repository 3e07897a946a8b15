import type { IncomingMessage } from 'node:http';
import { NodeSDK } from '@opentelemetry/sdk-node';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import {
  BatchSpanProcessor,
  ParentBasedSampler,
  TraceIdRatioBasedSampler,
} from '@opentelemetry/sdk-trace-base';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { ATTR_SERVICE_NAME, ATTR_SERVICE_VERSION } from '@opentelemetry/semantic-conventions';
import { HttpInstrumentation } from '@opentelemetry/instrumentation-http';
import { ExpressInstrumentation, ExpressLayerType } from '@opentelemetry/instrumentation-express';
import { PgInstrumentation } from '@opentelemetry/instrumentation-pg';
import { IORedisInstrumentation } from '@opentelemetry/instrumentation-ioredis';
import { UndiciInstrumentation } from '@opentelemetry/instrumentation-undici';
import { getSettings } from '../config/settings';
import type { TracingSettings } from '../config/settings';

export interface TracingHandle {
  readonly enabled: boolean;
  /** Sends what is still buffered and stops; safe to call when tracing is off or twice. */
  shutdown(): Promise<void>;
}

const OFF: TracingHandle = { enabled: false, shutdown: async () => undefined };

/** Probes and scrapes would be most of the spans and tell nothing about the work. */
const UNTRACED_PATHS = /^\/(health|metrics)(\/|\?|$)/;

/**
 * Starts OpenTelemetry for one service process, or does nothing when no OTLP endpoint is configured (the
 * default: then no SDK is registered, the API's spans are no-ops and nothing leaves the process).
 * Must run before express, pg and ioredis are first required, which is why each service imports its
 * `tracing.bootstrap.ts` first. The instrumentations add HTTP server/client, Express, pg, ioredis and fetch
 * (undici: the Gemini and Anthropic SDKs) spans; the project's own spans (publish, relay, job, step, model
 * dispatch) come from telemetry/spans.ts.
 */
export function startTracing(service: string, settings: TracingSettings, version = '0.1.0'): TracingHandle {
  if (!settings.endpoint) return OFF;
  const exporter = new OTLPTraceExporter({
    url: `${settings.endpoint}/v1/traces`,
    headers: { ...settings.headers },
  });
  const sdk = new NodeSDK({
    resource: resourceFromAttributes({
      [ATTR_SERVICE_NAME]: settings.serviceName ?? `raptorflow-${service}`,
      [ATTR_SERVICE_VERSION]: version,
    }),
    // Set explicitly: the SDK would otherwise read OTEL_* itself and add logs and metrics exporters too
    // (metrics stay on Prometheus; logs stay on stdout, carrying trace_id/span_id).
    autoDetectResources: false,
    spanProcessors: [new BatchSpanProcessor(exporter, { scheduledDelayMillis: settings.exportDelayMs })],
    metricReaders: [],
    logRecordProcessors: [],
    sampler: new ParentBasedSampler({ root: new TraceIdRatioBasedSampler(settings.sampleRatio) }),
    instrumentations: [
      new HttpInstrumentation({
        ignoreIncomingRequestHook: (req: IncomingMessage) => UNTRACED_PATHS.test(req.url ?? ''),
        // The OTLP exporter's own requests would trace themselves forever.
        ignoreOutgoingRequestHook: (req) => String(req.path ?? '').startsWith('/v1/traces'),
      }),
      // Only the route handler: a span per middleware would be a dozen empty bars per request.
      new ExpressInstrumentation({ ignoreLayersType: [ExpressLayerType.MIDDLEWARE] }),
      new PgInstrumentation({ requireParentSpan: true }),
      new IORedisInstrumentation({ requireParentSpan: true }),
      new UndiciInstrumentation({
        ignoreRequestHook: (req) => req.path.startsWith('/v1/traces'),
      }),
    ],
  });
  sdk.start();
  let stopped: Promise<void> | undefined;
  return {
    enabled: true,
    shutdown: () => (stopped ??= sdk.shutdown().catch(() => undefined)),
  };
}

/**
 * For a service's `tracing.bootstrap.ts`: tracing from the process's settings. A configuration that does not
 * parse leaves tracing off here; main() reports it with every problem listed.
 */
export function startServiceTracing(service: string): TracingHandle {
  let settings: TracingSettings;
  try {
    settings = getSettings().tracing;
  } catch {
    return OFF;
  }
  return startTracing(service, settings);
}
