import {
  ROOT_CONTEXT,
  SpanKind,
  SpanStatusCode,
  context,
  defaultTextMapGetter,
  defaultTextMapSetter,
  isSpanContextValid,
  trace,
} from '@opentelemetry/api';
import type { Attributes, Context, Span } from '@opentelemetry/api';
import { RPCType, W3CTraceContextPropagator, getRPCMetadata } from '@opentelemetry/core';

export { SpanKind };
export type { Attributes, Context, Span };

/**
 * The project's own tracer, asked for at each span rather than once at load: a tracer taken before the SDK
 * registers (a module loaded before tracing.ts ran, a test that starts an SDK itself) would stay a no-op.
 * Without an SDK it is the API's no-op tracer.
 */
const tracer = () => trace.getTracer('raptorflow');

// W3C trace context used directly (not through the global propagator, which exists only while the SDK runs):
// a client's `traceparent` still reaches the envelope and the logs when this process exports nothing.
const w3c = new W3CTraceContextPropagator();

export interface SpanOptions {
  kind?: SpanKind;
  attributes?: Attributes;
  /** The parent; the active context when omitted. */
  parent?: Context;
  /** For a span that began before it could be started (time spent queued). */
  startTime?: number;
}

/** Errors that are flow control, not failures (a job postponed, a run handed back): never marked ERROR. */
export type ExpectedError = (err: unknown) => boolean;

/**
 * Runs `fn` inside a new active span and ends it when `fn` settles; a throw is recorded on the span (as an
 * exception event, status ERROR) unless `expected` says it is flow control, and re-thrown.
 */
export async function inSpan<T>(
  name: string,
  options: SpanOptions,
  fn: (span: Span) => Promise<T>,
  expected?: ExpectedError,
): Promise<T> {
  const parent = options.parent ?? context.active();
  return tracer().startActiveSpan(
    name,
    {
      kind: options.kind ?? SpanKind.INTERNAL,
      ...(options.attributes ? { attributes: options.attributes } : {}),
      ...(options.startTime !== undefined ? { startTime: options.startTime } : {}),
    },
    parent,
    async (span) => {
      try {
        return await fn(span);
      } catch (err) {
        if (!expected?.(err)) markFailed(span, err);
        throw err;
      } finally {
        span.end();
      }
    },
  );
}

/**
 * A span started now and ended by the caller (work done in pieces, e.g. one statement for several publishes),
 * with the context in which it is the active span.
 */
export function startSpan(name: string, options: SpanOptions): { span: Span; context: Context } {
  const parent = options.parent ?? context.active();
  const span = tracer().startSpan(
    name,
    {
      kind: options.kind ?? SpanKind.INTERNAL,
      ...(options.attributes ? { attributes: options.attributes } : {}),
    },
    parent,
  );
  return { span, context: trace.setSpan(parent, span) };
}

/** Runs `fn` with `ctx` as the active context (e.g. one from startSpan). */
export function inContext<T>(ctx: Context, fn: () => T): T {
  return context.with(ctx, fn);
}

/** A span that already happened (e.g. time a job waited in its queue): started and ended at given times. */
export function recordSpan(
  name: string,
  options: SpanOptions & { startTime: number; endTime: number },
): void {
  const span = tracer().startSpan(
    name,
    {
      kind: options.kind ?? SpanKind.INTERNAL,
      startTime: options.startTime,
      ...(options.attributes ? { attributes: options.attributes } : {}),
    },
    options.parent ?? context.active(),
  );
  span.end(options.endTime);
}

export function markFailed(span: Span, err: unknown): void {
  const error = err instanceof Error ? err : new Error(String(err));
  span.recordException(error);
  span.setStatus({ code: SpanStatusCode.ERROR, message: error.message.slice(0, 300) });
}

/** The `traceparent` of the active span (or of `ctx`); undefined when there is no valid one. */
export function traceparentOf(ctx: Context = context.active()): string | undefined {
  const carrier: Record<string, string> = {};
  w3c.inject(ctx, carrier, defaultTextMapSetter);
  return carrier.traceparent;
}

/** The context a `traceparent` (from an envelope or a header) continues; the root context without one. */
export function contextOf(traceparent: string | undefined): Context {
  if (!traceparent) return ROOT_CONTEXT;
  return w3c.extract(ROOT_CONTEXT, { traceparent }, defaultTextMapGetter);
}

/** `trace_id`/`span_id` of the active span for a log line, or undefined outside any trace. */
export function activeTraceIds(): { trace_id: string; span_id: string } | undefined {
  const span = trace.getSpan(context.active());
  if (!span) return undefined;
  const sc = span.spanContext();
  return isSpanContextValid(sc) ? { trace_id: sc.traceId, span_id: sc.spanId } : undefined;
}

/**
 * Names the HTTP server span of the active request after its route template (`GET /v1/agent-runs/:id`, and
 * `http.route`), as the Express instrumentation does for routes that Express itself matched. Without an SDK
 * nothing is registered in the context and this does nothing.
 */
export function nameServerRoute(template: string): void {
  const rpc = getRPCMetadata(context.active());
  if (rpc?.type === RPCType.HTTP) rpc.route = template;
}
