import { act, screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { describe, expect, it } from 'vitest';
import { WorkspaceProvider } from '../app/workspace';
import { fakeGateway, json, renderWithApp, STAND_IN_CONFIG, workspace, WS_ID } from '../test/harness';
import { mergeSteps, RunPage } from './Run';

const RUN_ID = 'a7a7a7a7-0000-4000-8000-000000000009';

function detail(over: Record<string, unknown> = {}) {
  return {
    id: RUN_ID,
    agent: 'cognition',
    flow: 'research',
    status: 'running',
    input: { topic: 'oat milk for gen z', depth: 'quick' },
    output: null,
    error: null,
    model: 'standard',
    cost_usd: 0,
    input_tokens: 0,
    output_tokens: 0,
    duration_ms: null,
    created_at: '2026-11-30T10:00:00.000Z',
    started_at: '2026-11-30T10:00:01.000Z',
    completed_at: null,
    steps: [],
    costs: [],
    ...over,
  };
}

const COMPLETED = detail({
  status: 'completed',
  cost_usd: 0.004,
  duration_ms: 1500,
  completed_at: '2026-11-30T10:00:03.000Z',
  steps: [
    {
      key: 'plan',
      position: 0,
      status: 'completed',
      model: 'gemini-3.1-pro-preview',
      input_tokens: 10,
      output_tokens: 20,
      cost_usd: 0.004,
      started_at: '2026-11-30T10:00:01.000Z',
      completed_at: '2026-11-30T10:00:02.000Z',
      error: null,
    },
  ],
  costs: [
    {
      id: 'c0c0c0c0-0000-4000-8000-000000000001',
      provider: 'local',
      model: 'gemini-3.1-pro-preview',
      outcome: 'success',
      input_tokens: 10,
      output_tokens: 20,
      cost_usd: 0.004,
      created_at: '2026-11-30T10:00:02.000Z',
    },
  ],
  output: {
    topic: 'oat milk for gen z',
    findings: [{ question: 'Who buys oat milk?', finding: 'Students, mostly.' }],
    brief: { summary: 'Oat milk wins on taste.', key_points: ['Taste first'], next_steps: ['Test in Oslo'] },
    recalled: [
      { id: 'm1', kind: 'finding', score: 0.0328, similarity: 0.81234, content: 'Gen Z likes oats.' },
    ],
    remembered: ['x'],
  },
});

/** An SSE body the test writes to as it goes. */
function sseStream() {
  let controller!: ReadableStreamDefaultController<Uint8Array>;
  const body = new ReadableStream<Uint8Array>({ start: (c) => void (controller = c) });
  const enc = new TextEncoder();
  return {
    body,
    send: (id: number, type: string, data: Record<string, unknown>) =>
      controller.enqueue(
        enc.encode(`id: ${id}\nevent: ${type}\ndata: ${JSON.stringify({ type, ...data })}\n\n`),
      ),
    close: () => controller.close(),
  };
}

describe('run page', () => {
  it('follows the run live over SSE: status, steps, cost so far, then the output by flow', async () => {
    const stream = sseStream();
    let current = detail();
    const gw = fakeGateway({
      'GET /v1/agent-runs/{id}': () => json(current),
      'GET /v1/agent-runs/{id}/events': () =>
        new Response(stream.body, { status: 200, headers: { 'content-type': 'text/event-stream' } }),
      'POST /v1/agent-runs/{id}/cancel': () =>
        json({ id: RUN_ID, status: 'running', cancel_requested: true }, 202),
    });
    renderWithApp(null, {
      gateway: gw,
      config: STAND_IN_CONFIG,
      path: `/w/${WS_ID}/runs/${RUN_ID}`,
      routes: [
        {
          path: '/w/:workspaceId/runs/:runId',
          element: (
            <WorkspaceProvider workspace={workspace('member')}>
              <RunPage />
            </WorkspaceProvider>
          ),
        },
      ],
    });
    expect(await screen.findByRole('heading', { name: 'Run', level: 1 })).toBeTruthy();
    const status = await screen.findByRole('status');
    expect(status.textContent).toContain('running');
    expect(screen.getByRole('button', { name: 'Cancel run' })).toBeTruthy();
    await waitFor(() => expect(gw.calls.some((c) => c.path.endsWith('/events'))).toBe(true));
    const events = gw.calls.find((c) => c.path.endsWith('/events'))!;
    expect(events.headers.get('authorization')).toBe('Bearer t0k3n');
    expect(events.headers.get('x-workspace-id')).toBe(WS_ID);

    act(() => {
      stream.send(1, 'status', { status: 'running' });
      stream.send(2, 'step.started', { step: 'plan', position: 0 });
    });
    const steps = await screen.findByRole('list', { name: 'Steps' });
    await waitFor(() => expect(within(steps).getAllByRole('listitem')[0]!.textContent).toContain('plan'));
    expect(within(steps).getAllByRole('listitem')[0]!.textContent).toContain('running');

    act(() =>
      stream.send(3, 'step.completed', { step: 'plan', position: 0, cost_usd: 0.004, run_cost_usd: 0.004 }),
    );
    await waitFor(() => expect(screen.getByText(/Cost so far/).textContent).toContain('$0.004'));

    current = COMPLETED;
    act(() => {
      stream.send(4, 'status', { status: 'completed', cost_usd: 0.004, duration_ms: 1500 });
    });
    await waitFor(() => expect(status.textContent).toContain('completed'));
    await waitFor(() => expect(screen.queryByRole('button', { name: 'Cancel run' })).toBeNull());
    // The output, by flow: the research brief, findings, and what was recalled with its scores.
    expect(await screen.findByRole('heading', { name: 'Research brief' })).toBeTruthy();
    expect(screen.getByText('Oat milk wins on taste.')).toBeTruthy();
    expect(screen.getByText('Who buys oat milk?')).toBeTruthy();
    expect(screen.getByText(/Gen Z likes oats/)).toBeTruthy();
    expect(screen.getByText(/similarity 0.812/)).toBeTruthy();
    // Stand-in output is labelled as such.
    expect(screen.getByText(/Written by the offline stand-in/)).toBeTruthy();
    expect(screen.getAllByText('stand-in').length).toBeGreaterThanOrEqual(2);
  });

  it('shows a failed run’s error and the guardian’s verdict with its violations', async () => {
    const gw = fakeGateway({
      'GET /v1/agent-runs/{id}': () =>
        json(
          detail({
            agent: 'arbiter',
            flow: 'guardian',
            status: 'completed',
            model: 'fast',
            output: {
              verdict: 'fail',
              violations: [{ kind: 'banned_phrase', text: 'guaranteed results' }],
              citations: [],
            },
          }),
        ),
    });
    renderWithApp(<RunPage />, {
      gateway: gw,
      workspace: workspace('member'),
      route: '/w/:workspaceId/runs/:runId',
      path: `/w/${WS_ID}/runs/${RUN_ID}`,
    });
    await screen.findByText(/Guardian verdict/);
    expect(screen.getByRole('status').textContent).toContain('completed');
    expect(screen.getByText('fail')).toBeTruthy();
    expect(screen.getByRole('list', { name: 'Guardian verdict violations' }).textContent).toContain(
      'Banned phrase: “guaranteed results”',
    );
    expect(screen.queryByRole('button', { name: 'Cancel run' })).toBeNull();
    // A finished run opens no stream.
    expect(gw.calls.some((c) => c.path.endsWith('/events'))).toBe(false);
  });

  it('cancels a running run', async () => {
    const stream = sseStream();
    const gw = fakeGateway({
      'GET /v1/agent-runs/{id}': () => json(detail({ status: 'queued' })),
      'GET /v1/agent-runs/{id}/events': () => new Response(stream.body, { status: 200 }),
      'POST /v1/agent-runs/{id}/cancel': () => json({ ...detail({ status: 'cancelled' }) }),
    });
    renderWithApp(<RunPage />, {
      gateway: gw,
      workspace: workspace('member'),
      route: '/w/:workspaceId/runs/:runId',
      path: `/w/${WS_ID}/runs/${RUN_ID}`,
    });
    await userEvent.setup().click(await screen.findByRole('button', { name: 'Cancel run' }));
    await waitFor(() =>
      expect(gw.calls.some((c) => c.method === 'POST' && c.path.endsWith('/cancel'))).toBe(true),
    );
  });
});

describe('mergeSteps', () => {
  it('brings stored steps up to date with live events, in position order', () => {
    const stored = COMPLETED.steps as Parameters<typeof mergeSteps>[0];
    const merged = mergeSteps(stored, [
      { id: '5', type: 'step.started', step: 'gather', position: 1 },
      { id: '6', type: 'step.failed', step: 'gather', position: 1, error: { code: 'x', message: 'boom' } },
      { id: '7', type: 'step.started', step: 'plan', position: 0 },
    ]);
    expect(merged.map((s) => [s.key, s.status])).toEqual([
      ['plan', 'completed'],
      ['gather', 'failed'],
    ]);
    expect(merged[1]!.error).toEqual({ code: 'x', message: 'boom' });
  });
});
