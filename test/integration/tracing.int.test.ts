import { eventually } from '../support/http';
import { fakeProviderEnv, useFakeProviders } from '../support/llm';
import { serviceEnv, useServices } from '../support/processes';
import type { RunningService } from '../support/processes';
import { lordsWorkspace, runsClient } from '../support/agent-runs';
import { OtlpReceiver, SPAN_KIND } from '../support/otlp-receiver';
import type { ReceivedSpan } from '../support/otlp-receiver';

/**
 * One trace across processes: the gateway, the agent-runner and the cost-ledger run as real processes that
 * export OTLP/HTTP to a receiver started here; one API request that publishes an event and runs a research
 * flow against the fake Gemini server must come back as ONE trace whose spans cover every hop with correct
 * parent links, and the services' log lines must carry the same trace id.
 */
const { stack, services } = useServices();
const fakes = useFakeProviders();
const receiver = new OtlpReceiver();
const FLASH = 'gemini-3.8-flash';
const SECRET_HEADER = 'otlp-key-must-never-leak';
let gateway: RunningService;
let runner: RunningService;
let ledger: RunningService;

const research = { agent: 'seer', input: { topic: 'oat milk for runners', depth: 'quick' }, model: 'fast' };

beforeAll(async () => {
  const endpoint = await receiver.start();
  const env = serviceEnv(
    fakeProviderEnv(fakes, {
      OTEL_EXPORTER_OTLP_ENDPOINT: endpoint,
      OTEL_EXPORTER_OTLP_HEADERS: `x-otlp-key=${SECRET_HEADER}`,
      OTEL_BSP_SCHEDULE_DELAY: '100',
      LOG_LEVEL: 'debug',
    }),
  );
  [gateway, runner, ledger] = await Promise.all([
    services.start('gateway', env),
    services.start('agent-runner', env),
    services.start('cost-ledger', env),
  ]);
}, 90_000);

afterAll(() => receiver.close());

beforeEach(() => fakes.gemini.setDefault({ ok: {} }, FLASH));

/** Follows parent links up from `span` to the root; throws on a parent that never arrived (a broken link). */
function ancestry(span: ReceivedSpan, all: ReceivedSpan[]): ReceivedSpan[] {
  const byId = new Map(all.map((s) => [s.spanId, s]));
  const chain = [span];
  let cur = span;
  while (cur.parentSpanId) {
    const parent = byId.get(cur.parentSpanId);
    if (!parent) throw new Error(`span "${cur.name}" (${cur.service}) has a parent that is not in the trace`);
    chain.push(parent);
    cur = parent;
  }
  return chain;
}

function one(spans: ReceivedSpan[], name: string | RegExp, service?: string): ReceivedSpan {
  const found = spans.filter(
    (s) =>
      (typeof name === 'string' ? s.name === name : name.test(s.name)) && (!service || s.service === service),
  );
  if (found.length === 0)
    throw new Error(`no span ${String(name)} in [${spans.map((s) => `${s.service}:${s.name}`).join(', ')}]`);
  return found[0]!;
}

function parentOf(span: ReceivedSpan, spans: ReceivedSpan[]): ReceivedSpan | undefined {
  return spans.find((s) => s.spanId === span.parentSpanId);
}

/** The trace ids in a service's JSON log lines. */
function loggedTraceIds(service: RunningService): Set<string> {
  const ids = new Set<string>();
  for (const line of service.child.output) {
    try {
      const parsed = JSON.parse(line) as { trace_id?: string; span_id?: string };
      if (parsed.trace_id && parsed.span_id) ids.add(parsed.trace_id);
    } catch {
      // Not a log line (npm or tsx output).
    }
  }
  return ids;
}

it('follows one request from the gateway through the outbox, the runner, the model call and the ledger as one trace', async () => {
  const { owner, ws } = await lordsWorkspace(stack.db);
  const runs = runsClient(gateway.url, owner, ws);
  const id = await runs.create(research);
  const run = await runs.until(id, ['completed', 'failed', 'cancelled'], 45_000);
  expect(run.status).toBe('completed');

  // The request's server span: a root (the client sent no traceparent), so the gateway started the trace.
  const server = await eventually(
    async () =>
      receiver.spans.find(
        (s) =>
          s.kind === SPAN_KIND.server &&
          s.service === 'raptorflow-gateway' &&
          s.attributes['http.request.method'] === 'POST' &&
          String(s.attributes['url.path'] ?? s.attributes['http.target'] ?? '').startsWith('/v1/agent-runs'),
      ),
    20_000,
  );
  expect(server.parentSpanId).toBeUndefined();
  // Named after the route's template (the endpoint table names it, as Express's instrumentation would).
  expect(server.attributes['http.route']).toBe('/v1/agent-runs');
  expect(server.name).toBe('POST /v1/agent-runs');
  const traceId = server.traceId;
  // Everything the run did arrives over the next export batches: wait for the ledger's fold of the last cost.
  const spans = await eventually(async () => {
    const t = receiver.trace(traceId);
    const folds = t.filter((s) => s.name === 'job cost.recorded');
    const chats = t.filter((s) => s.name.startsWith('chat '));
    const done = t.some((s) => s.name === 'job agent.run.requested');
    return done && chats.length >= 3 && folds.length >= chats.length ? t : undefined;
  }, 30_000);
  expect(receiver.rejected).toEqual([]);

  // gateway request → outbox publish
  const publish = one(spans, 'publish agent.run.requested', 'raptorflow-gateway');
  expect(publish.kind).toBe(SPAN_KIND.producer);
  expect(ancestry(publish, spans).at(-1)).toBe(server);
  // → job (the runner's consumer span is the publish span's child: the context travelled in the envelope)
  const job = one(spans, 'job agent.run.requested', 'raptorflow-agent-runner');
  expect(job.kind).toBe(SPAN_KIND.consumer);
  expect(job.parentSpanId).toBe(publish.spanId);
  expect(job.attributes['messaging.destination.name']).toBe('agent');
  const waited = one(spans, 'queue wait agent', 'raptorflow-agent-runner');
  expect(waited.parentSpanId).toBe(publish.spanId);
  // → handler → claim and flow
  const handle = one(spans, 'handle agent.run.requested');
  expect(handle.parentSpanId).toBe(job.spanId);
  expect(parentOf(one(spans, 'run claim'), spans)).toBe(handle);
  const flow = one(spans, 'run research');
  expect(flow.parentSpanId).toBe(handle.spanId);
  expect(flow.attributes['raptorflow.agent_run_id']).toBe(id);
  // → flow steps, each under the flow's span
  const steps = spans.filter((s) => s.name.startsWith('step '));
  expect(steps.length).toBeGreaterThanOrEqual(3);
  for (const step of steps) expect(ancestry(step, spans)).toContain(flow);
  // → model dispatch, with the GenAI conventions, under a step
  const chat = spans.find((s) => s.name === `chat ${FLASH}`)!;
  if (!chat) expect(chat).toBeDefined();
  expect(chat.kind).toBe(SPAN_KIND.client);
  expect(parentOf(chat, spans)?.name).toMatch(/^step /);
  expect(chat.attributes).toMatchObject({
    'gen_ai.operation.name': 'chat',
    'gen_ai.system': 'gcp.gemini',
    'gen_ai.request.model': FLASH,
    'raptorflow.workspace_id': ws.id,
  });
  expect(chat.attributes['gen_ai.usage.input_tokens']).toBeGreaterThan(0);
  expect(chat.attributes['gen_ai.usage.output_tokens']).toBeGreaterThan(0);
  expect(chat.attributes['raptorflow.cost_usd']).toBeGreaterThan(0);
  // → the provider's HTTP request (the SDK's fetch), a client span under the dispatch
  const http = spans.find(
    (s) => s.kind === SPAN_KIND.client && s.parentSpanId === chat.spanId && /^POST/.test(s.name),
  );
  expect(http?.attributes['url.full']).toEqual(expect.stringContaining(`${fakes.gemini.url}/`));
  // The database and Redis work of the run is in the trace too.
  const dbSystem = (s: ReceivedSpan) => s.attributes['db.system.name'] ?? s.attributes['db.system'];
  expect(spans.some((s) => s.service === 'raptorflow-agent-runner' && dbSystem(s) === 'postgresql')).toBe(
    true,
  );
  expect(spans.some((s) => dbSystem(s) === 'redis')).toBe(true);
  // The cost the call recorded is folded by the ledger in the same trace: publish under the dispatch → job.
  const costPublish = spans.find(
    (s) => s.name === 'publish cost.recorded' && ancestry(s, spans).includes(chat),
  )!;
  expect(costPublish).toBeDefined();
  const fold = spans.find((s) => s.name === 'job cost.recorded' && s.parentSpanId === costPublish.spanId);
  expect(fold?.service).toBe('raptorflow-cost-ledger');

  // Every span of the trace links up to the gateway's server span.
  for (const s of spans) expect(ancestry(s, spans).at(-1)).toBe(server);
  // The same trace id in each service's log lines.
  await eventually(
    async () => [gateway, runner, ledger].every((s) => loggedTraceIds(s).has(traceId)),
    10_000,
  );
  // The exporter's header reached the receiver, and never a log line.
  expect(receiver.headers.some((h) => h['x-otlp-key'] === SECRET_HEADER)).toBe(true);
  for (const s of [gateway, runner, ledger]) expect(s.child.output.join('\n')).not.toContain(SECRET_HEADER);
}, 120_000);

it("continues a client's traceparent instead of starting a new trace", async () => {
  const { owner, ws } = await lordsWorkspace(stack.db);
  const traceId = 'a1b2c3d4e5f60718293a4b5c6d7e8f90';
  const parent = '1122334455667788';
  const res = await fetch(`${gateway.url}/v1/agent-runs`, {
    method: 'POST',
    headers: {
      authorization: `Bearer ${owner.token}`,
      'content-type': 'application/json',
      'x-workspace-id': ws.id,
      traceparent: `00-${traceId}-${parent}-01`,
    },
    body: JSON.stringify(research),
  });
  expect(res.status).toBe(202);
  const asClient = (server: (typeof receiver.spans)[number]) =>
    ({ ...server, spanId: parent, parentSpanId: undefined, name: 'the client' }) as typeof server;
  // Each process exports on its own schedule, and a parent span ends (and is exported) after its children:
  // wait until the run's whole ancestry has arrived, not just the run's own span.
  const spans = await eventually(async () => {
    const t = receiver.trace(traceId);
    const run = t.find((s) => s.name === 'run research');
    const server = t.find((s) => s.kind === SPAN_KIND.server && s.service === 'raptorflow-gateway');
    if (!run || !server) return undefined;
    try {
      ancestry(run, [...t, asClient(server)]);
      return t;
    } catch {
      return undefined;
    }
  }, 45_000);
  // The gateway's server span is the child of the client's span; the run hangs off it, in the same trace.
  const server = spans.find((s) => s.kind === SPAN_KIND.server && s.service === 'raptorflow-gateway');
  expect(server?.parentSpanId).toBe(parent);
  const client = asClient(server!);
  expect(ancestry(one(spans, 'run research'), [...spans, client]).at(-1)).toBe(client);
}, 90_000);
