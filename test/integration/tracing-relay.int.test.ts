import { Redis as IORedis } from 'ioredis';
import { NodeSDK } from '@opentelemetry/sdk-node';
import { InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { SpanKind } from '@opentelemetry/api';
import { RaptorBus } from '@raptorflow/events/bus/raptor-bus';
import { freePort } from '../../scripts/lib/local-stack';
import { eventually } from '../support/http';
import { serviceEnv, useServices } from '../support/processes';
import { OtlpReceiver, SPAN_KIND } from '../support/otlp-receiver';

/**
 * The other road an event takes: its publisher commits the outbox row but cannot reach Redis (the fast path
 * misses), and a service's outbox relay sends it later. The relay's span must sit between the publish and the
 * consumer's job in one trace, so an operator sees how long the event waited in the outbox. The publisher is
 * this test process (traced by the SDK, its spans kept in memory); the relay and the consumer (the seeder,
 * which handles `test.event`) are real service processes exporting to an OTLP receiver.
 */
const { stack, services } = useServices();
const receiver = new OtlpReceiver();
// In memory: the OTLP exporter loads its HTTP agent by dynamic import, which jest's VM refuses.
const published = new InMemorySpanExporter();
let sdk: NodeSDK;
let deadRedis: IORedis;

beforeAll(async () => {
  const endpoint = await receiver.start();
  sdk = new NodeSDK({
    resource: resourceFromAttributes({ 'service.name': 'raptorflow-test-publisher' }),
    autoDetectResources: false,
    spanProcessors: [new SimpleSpanProcessor(published)],
    metricReaders: [],
    logRecordProcessors: [],
    instrumentations: [],
  });
  sdk.start();
  const env = serviceEnv({
    OTEL_EXPORTER_OTLP_ENDPOINT: endpoint,
    OTEL_BSP_SCHEDULE_DELAY: '100',
    OUTBOX_RELAY_INTERVAL_MS: '200',
  });
  await Promise.all([services.start('gateway', env), services.start('seeder', env)]);
  // A producer connection to a port nothing listens on: every enqueue fails at once.
  deadRedis = new IORedis({
    port: await freePort(),
    lazyConnect: true,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
    disconnectTimeout: 50,
  });
}, 90_000);

afterAll(async () => {
  deadRedis.disconnect();
  await sdk.shutdown();
  await receiver.close();
});

it('an event the fast path missed is relayed, and the relay span links the publish to the job', async () => {
  const bus = new RaptorBus({
    db: stack.db,
    connection: deadRedis,
    prefix: stack.prefix,
    enqueueTimeoutMs: 200,
  });
  const envelope = await stack.db.transaction((trx) =>
    bus.publish('test.event', { message: 'relayed' }, { trx, workspaceId: null }),
  );
  // The post-commit enqueue failed: the row waits for the relay.
  await eventually(async () => {
    const row = await stack.db('event_outbox').where({ id: envelope.event_id }).first();
    return row && row.attempts >= 1 && row.enqueued_at === null;
  }, 10_000);
  expect(envelope.traceparent).toMatch(/^00-[0-9a-f]{32}-[0-9a-f]{16}-01$/);
  const traceId = envelope.traceparent!.split('-')[1]!;

  const spans = await eventually(async () => {
    const t = receiver.trace(traceId);
    const arrived = ['relay test.event', 'handle test.event'];
    return arrived.every((name) => t.some((s) => s.name === name)) ? t : undefined;
  }, 30_000);
  const publish = published.getFinishedSpans().find((s) => s.name === 'publish test.event')!;
  expect(publish.spanContext().traceId).toBe(traceId);
  expect(publish.kind).toBe(SpanKind.PRODUCER);
  const relay = spans.find((s) => s.name === 'relay test.event');
  expect(relay?.parentSpanId).toBe(publish.spanContext().spanId);
  expect(['raptorflow-gateway', 'raptorflow-seeder']).toContain(relay!.service);
  expect(relay!.attributes['raptorflow.outbox.attempts']).toBeGreaterThanOrEqual(1);
  const job = spans.find((s) => s.name === 'job test.event');
  expect(job).toMatchObject({
    service: 'raptorflow-seeder',
    kind: SPAN_KIND.consumer,
    parentSpanId: relay!.spanId,
  });
  expect(spans.find((s) => s.name === 'handle test.event')?.parentSpanId).toBe(job!.spanId);
  // The time in the outbox shows: the job started well after the publish ended.
  const [sec, ns] = publish.endTime;
  expect(job!.startNs - (BigInt(sec) * 1_000_000_000n + BigInt(ns))).toBeGreaterThan(1_000_000_000n);
  await bus.close();
}, 60_000);
