import type { IncomingMessage, ServerResponse } from 'node:http';
import { createRequire } from 'node:module';
import { metrics, type Meter } from '@opentelemetry/api';
import { PrometheusExporter } from '@opentelemetry/exporter-prometheus';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { CassandraDriverInstrumentation } from '@opentelemetry/instrumentation-cassandra-driver';
import { GrpcInstrumentation } from '@opentelemetry/instrumentation-grpc';
import { HttpInstrumentation } from '@opentelemetry/instrumentation-http';
import { KafkaJsInstrumentation } from '@opentelemetry/instrumentation-kafkajs';
import { NodeSDK } from '@opentelemetry/sdk-node';
import {
  AlwaysOffSampler,
  BatchSpanProcessor,
  NoopSpanProcessor,
  ParentBasedSampler,
  TraceIdRatioBasedSampler,
} from '@opentelemetry/sdk-trace';

/**
 * OpenTelemetry for a service: traces across HTTP, gRPC, Kafka and Cassandra (NATS carries the
 * context in headers, see ../nats), Prometheus metrics served by the health server.
 *
 * Call startTelemetry() first in main.ts and load the rest of the service with a dynamic import
 * afterwards. The instrumented packages are CommonJS: startTelemetry require()s each of them once,
 * right after the SDK patched require, and the service's later ES imports get the same (patched)
 * module from Node's module cache. This avoids an ES-module loader hook, which would route every
 * module load of the process through a loader thread (seconds of start-up on two cores).
 *
 * Traces are exported over OTLP/HTTP when OTEL_EXPORTER_OTLP_ENDPOINT (or
 * OTEL_EXPORTER_OTLP_TRACES_ENDPOINT) is set. Without an endpoint spans are not recorded, but
 * trace ids still propagate over HTTP and gRPC and appear in the logs; Kafka and Cassandra are then
 * not instrumented at all: their wrappers cost 5–8 % of a service's CPU on the send path (profiled,
 * docs/benchmarks.md), for spans nobody records (a Cassandra span is a leaf, and the consumers of
 * Kafka work in batches, whose logs a per-record trace id would not name anyway).
 */
export interface Telemetry {
  readonly meter: Meter;
  metricsHandler(req: IncomingMessage, res: ServerResponse): void;
  shutdown(): Promise<void>;
}

let current: Telemetry | undefined;

export function startTelemetry(service: string): Telemetry {
  if (current) return current;
  const exportTraces = Boolean(
    process.env.OTEL_EXPORTER_OTLP_ENDPOINT ?? process.env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT,
  );
  const prometheus = new PrometheusExporter({ preventServerStart: true });
  const sdk = new NodeSDK({
    serviceName: process.env.OTEL_SERVICE_NAME ?? service,
    metricReaders: [prometheus],
    // Without an exporter a no-op processor still makes the SDK install its tracer provider: spans
    // are not recorded, but every request gets a trace id that propagates and appears in the logs.
    spanProcessors: exportTraces
      ? [new BatchSpanProcessor({ exporter: new OTLPTraceExporter() })]
      : [new NoopSpanProcessor()],
    sampler: exportTraces
      ? new ParentBasedSampler({ root: new TraceIdRatioBasedSampler(sampleRatio()) })
      : new AlwaysOffSampler(),
    instrumentations: [
      new HttpInstrumentation({ ignoreIncomingRequestHook: (req) => isProbe(req.url) }),
      new GrpcInstrumentation({ ignoreGrpcMethods: ['Check', 'Watch'] }),
      ...(exportTraces ? [new KafkaJsInstrumentation(), new CassandraDriverInstrumentation()] : []),
    ],
  });
  if (process.env.OTEL_SDK_DISABLED !== 'true') {
    sdk.start();
    const require = createRequire(import.meta.url);
    for (const name of exportTraces ? [...INSTRUMENTED, ...EXPORT_ONLY_INSTRUMENTED] : INSTRUMENTED)
      require(name);
  }
  current = {
    meter: metrics.getMeter(service),
    metricsHandler: (req, res) => prometheus.getMetricsRequestHandler(req, res),
    shutdown: () => sdk.shutdown().catch(() => undefined),
  };
  return current;
}

/** The service's meter; a no-op meter before startTelemetry (unit tests). */
export function meter(): Meter {
  return current?.meter ?? metrics.getMeter('im');
}

export function telemetry(): Telemetry | undefined {
  return current;
}

/** The CommonJS packages the instrumentations patch; loaded once through require after sdk.start(). */
const INSTRUMENTED = ['@grpc/grpc-js', 'node:http', 'node:https'];
/** Patched only when traces are exported. */
const EXPORT_ONLY_INSTRUMENTED = ['kafkajs', 'cassandra-driver'];

function sampleRatio(): number {
  const raw = Number(process.env.OTEL_TRACES_SAMPLER_ARG ?? '1');
  return Number.isFinite(raw) && raw >= 0 && raw <= 1 ? raw : 1;
}

function isProbe(url: string | undefined): boolean {
  return url === '/healthz' || url === '/readyz' || url === '/metrics';
}
