import { Writable } from 'node:stream';
import { NodeSDK } from '@opentelemetry/sdk-node';
import { InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { SpanStatusCode, context } from '@opentelemetry/api';
import { buildLogger } from '../logging/logger';
import { activeTraceIds, contextOf, inSpan, recordSpan, traceparentOf } from './spans';

const TRACEPARENT = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01';

describe('without an SDK (tracing off)', () => {
  it('runs the work and has no trace of its own (an envelope then carries the request context traceparent)', async () => {
    await expect(inSpan('work', {}, async () => traceparentOf())).resolves.toBeUndefined();
    expect(activeTraceIds()).toBeUndefined();
    expect(traceparentOf(contextOf(TRACEPARENT))).toBe(TRACEPARENT);
  });

  it('treats a missing or malformed traceparent as no parent', () => {
    expect(traceparentOf(contextOf(undefined))).toBeUndefined();
    expect(traceparentOf(contextOf('00-zz-zz-01'))).toBeUndefined();
  });
});

describe('with an SDK', () => {
  const exporter = new InMemorySpanExporter();
  const sdk = new NodeSDK({
    autoDetectResources: false,
    spanProcessors: [new SimpleSpanProcessor(exporter)],
    metricReaders: [],
    logRecordProcessors: [],
    instrumentations: [],
  });
  beforeAll(() => sdk.start());
  afterAll(() => sdk.shutdown());
  beforeEach(() => exporter.reset());

  it('nests spans, continues a traceparent, and hands its own traceparent on', async () => {
    let inner: string | undefined;
    await inSpan('outer', { parent: contextOf(TRACEPARENT) }, () =>
      inSpan('inner', {}, async () => {
        inner = traceparentOf();
      }),
    );
    const [innerSpan, outerSpan] = exporter.getFinishedSpans();
    expect(outerSpan!.spanContext().traceId).toBe('0af7651916cd43dd8448eb211c80319c');
    expect(outerSpan!.parentSpanContext?.spanId).toBe('b7ad6b7169203331');
    expect(innerSpan!.parentSpanContext?.spanId).toBe(outerSpan!.spanContext().spanId);
    expect(inner).toBe(`00-${innerSpan!.spanContext().traceId}-${innerSpan!.spanContext().spanId}-01`);
  });

  it('marks a failure ERROR with the exception, but not an error the caller calls expected', async () => {
    await expect(inSpan('fails', {}, () => Promise.reject(new Error('boom')))).rejects.toThrow('boom');
    await expect(
      inSpan(
        'postponed',
        {},
        () => Promise.reject(new RangeError('later')),
        (e) => e instanceof RangeError,
      ),
    ).rejects.toThrow('later');
    const [failed, postponed] = exporter.getFinishedSpans();
    expect(failed!.status).toEqual({ code: SpanStatusCode.ERROR, message: 'boom' });
    expect(failed!.events.map((e) => e.name)).toEqual(['exception']);
    expect(postponed!.status.code).toBe(SpanStatusCode.UNSET);
  });

  it('records a span that already happened with its own start and end', () => {
    recordSpan('queue wait', { startTime: 1_000_000, endTime: 1_004_000 });
    const [span] = exporter.getFinishedSpans();
    expect(span!.startTime).toEqual([1_000, 0]);
    expect(span!.endTime).toEqual([1_004, 0]);
  });

  it('puts trace_id and span_id on every log line written inside a span, and none outside', async () => {
    const lines: string[] = [];
    const sink = new Writable({
      write(chunk: Buffer, _enc, done) {
        lines.push(chunk.toString());
        done();
      },
    });
    const logger = buildLogger({ logLevel: 'info', logFormat: 'json', environment: 'test' }, sink);
    logger.info('outside');
    await inSpan('logged', {}, async () => logger.info('inside'));
    const [outside, inside] = lines.map((l) => JSON.parse(l) as Record<string, unknown>);
    const span = exporter.getFinishedSpans()[0]!.spanContext();
    expect(outside).not.toHaveProperty('trace_id');
    expect(inside).toMatchObject({ trace_id: span.traceId, span_id: span.spanId });
    expect(context.active()).toBeDefined();
  });
});
