import fc from 'fast-check';
import { RunEventLog } from '../../shared/src';
import { insertRun, seedLords } from '../support/agent-runs';
import { newUser, newWorkspace } from '../support/factories';
import type { TestUser, TestWorkspace } from '../support/factories';
import { startGateway } from '../support/gateway';
import { openStack } from '../support/stack';

/**
 * Property: whatever a client sends — random bodies, query strings, path ids, headers — every route answers
 * without a 5xx, and every error has the one error shape.
 */
const stack = openStack();
let url: string;
let close: () => Promise<void>;
let owner: TestUser;
let ws: TestWorkspace;
let runId: string;
beforeAll(async () => {
  ({ url, close } = await startGateway(stack));
  owner = await newUser();
  ws = await newWorkspace(stack.db, owner, { members: [{ user: await newUser(), role: 'member' }] });
  await seedLords(stack.db, ws.id);
  // A finished run (with its terminal event), so its event stream replays and ends instead of staying open.
  const run = await insertRun(stack.db, ws.id, 'cognition', {
    status: 'completed',
    completed_at: new Date(),
  });
  await new RunEventLog({ db: stack.db, redis: stack.redis, prefix: stack.prefix }).append(run, 'status', {
    status: 'completed',
  });
  runId = run.id;
});
afterAll(async () => {
  await close?.();
  await stack.close();
});

const ROUTES: Array<[string, string]> = [
  ['GET', '/v1/workspaces'],
  ['POST', '/v1/workspaces'],
  ['GET', '/v1/workspaces/:id'],
  ['GET', '/v1/workspaces/:id/members'],
  ['POST', '/v1/workspaces/:id/members'],
  ['PATCH', '/v1/workspaces/:id/members/:id2'],
  ['DELETE', '/v1/workspaces/:id/members/:id2'],
  ['GET', '/v1/workspaces/:id/budget'],
  ['PUT', '/v1/workspaces/:id/budget'],
  ['GET', '/v1/agents'],
  ['GET', '/v1/audit-logs'],
  ['POST', '/v1/events'],
  ['POST', '/v1/model/dispatch'],
  ['GET', '/v1/costs/summary'],
  ['GET', '/v1/costs/daily'],
  ['POST', '/v1/agent-runs'],
  ['GET', '/v1/agent-runs'],
  ['GET', '/v1/agent-runs/stats'],
  ['GET', '/v1/agent-runs/:id'],
  ['POST', '/v1/agent-runs/:id/cancel'],
  ['GET', '/v1/agent-runs/:id/events'],
  ['GET', '/v1/workspaces/:id/guardrails'],
  ['PUT', '/v1/workspaces/:id/guardrails'],
  ['GET', '/health'],
];

const headerSafe = fc.string({ maxLength: 60 }).map((s) => s.replace(/[^\x20-\x7e]/g, '').trim());
const pathId = fc.oneof(
  fc.uuid(),
  fc.constant('WS'),
  fc.constant('RUN'),
  fc.string({ maxLength: 40 }).map((s) => encodeURIComponent(s) || 'x'),
  fc.constantFrom('..', '%00', '%2F', 'null', '0', '-1', "' OR 1=1 --"),
);
const body = fc.oneof(
  fc.json().map((j) => ({ raw: j })),
  fc.anything().map((v) => ({ raw: JSON.stringify(v) ?? 'null' })),
  fc
    .record({
      name: fc.anything(),
      user_id: fc.anything(),
      role: fc.anything(),
      monthly_budget_usd: fc.anything(),
      event_type: fc.anything(),
      payload: fc.anything(),
      model: fc.oneof(fc.constantFrom('fast', 'heavy', 'gpt-9', ''), fc.anything()),
      messages: fc.oneof(
        fc.array(fc.record({ role: fc.constantFrom('user', 'assistant', 'x'), content: fc.string() })),
        fc.anything(),
      ),
      max_tokens: fc.oneof(fc.integer(), fc.anything()),
      agent: fc.oneof(fc.constantFrom('cognition', 'arbiter', 'herald', 'zeus'), fc.anything()),
      input: fc.oneof(
        fc.record({ topic: fc.string(), depth: fc.anything() }, { requiredKeys: [] }),
        fc.record({ content: fc.string() }),
        fc.anything(),
      ),
      banned_phrases: fc.oneof(fc.array(fc.string()), fc.anything()),
      required_disclaimers: fc.oneof(fc.array(fc.string()), fc.anything()),
    })
    .map((v) => ({ raw: JSON.stringify(v) })),
  fc.string({ maxLength: 200 }).map((s) => ({ raw: s })),
  fc.constant({ raw: undefined as string | undefined }),
);
const query = fc.dictionary(
  fc.constantFrom(
    'limit',
    'cursor',
    'workspace_id',
    'action',
    'from',
    'to',
    'actor_type',
    'status',
    'agent',
    'last_event_id',
    fc.string() as never,
  ) as fc.Arbitrary<string>,
  fc.string({ maxLength: 40 }),
  { maxKeys: 4 },
);

it('answers random input on every route without a 5xx, always in the error shape', async () => {
  await fc.assert(
    fc.asyncProperty(
      fc.constantFrom(...ROUTES),
      pathId,
      pathId,
      body,
      query,
      fc.record({
        workspace: fc.option(fc.oneof(fc.uuid(), headerSafe, fc.constant('WS')), { nil: undefined }),
        contentType: fc.constantFrom(
          'application/json',
          'text/plain',
          'application/x-www-form-urlencoded',
          'application/json; charset=latin1',
          '',
        ),
        correlation: fc.option(headerSafe, { nil: undefined }),
        auth: fc.constantFrom('good', 'none', 'garbage'),
      }),
      async ([method, template], id, id2, b, q, h) => {
        const real = (v: string, ws2: string) => (v === 'WS' ? ws2 : v === 'RUN' ? runId : v);
        const path = template.replace(':id2', real(id2, owner.id)).replace(':id', real(id, ws.id));
        const qs = new URLSearchParams(
          Object.entries(q).map(([k, v]): [string, string] => [k, v === 'WS' ? ws.id : v]),
        ).toString();
        const headers: Record<string, string> = {};
        if (h.auth === 'good') headers.authorization = `Bearer ${owner.token}`;
        if (h.auth === 'garbage') headers.authorization = 'Bearer eyJ.garbage.x';
        if (h.workspace !== undefined) headers['x-workspace-id'] = h.workspace === 'WS' ? ws.id : h.workspace;
        if (h.correlation) headers['x-correlation-id'] = h.correlation;
        if (h.contentType) headers['content-type'] = h.contentType;
        const sendsBody = b.raw !== undefined && method !== 'GET' && method !== 'DELETE';
        const res = await fetch(`${url}${path}${qs ? `?${qs}` : ''}`, {
          method,
          headers,
          ...(sendsBody ? { body: b.raw } : {}),
        });
        const text = await res.text();
        if (res.status >= 500) throw new Error(`${method} ${path}?${qs} → ${res.status}: ${text}`);
        if (res.status >= 400) {
          const parsed = JSON.parse(text);
          expect(Object.keys(parsed).sort()).toEqual(['correlation_id', 'error']);
          expect(typeof parsed.error.code).toBe('string');
          expect(typeof parsed.error.message).toBe('string');
        }
      },
    ),
    { numRuns: 400, seed: Number(process.env.FUZZ_SEED ?? Date.now() % 100_000) },
  );
}, 120_000);
