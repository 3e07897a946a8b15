import { screen, waitFor } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { describe, expect, it } from 'vitest';
import { apiError, fakeGateway, json, renderWithApp, workspace, WS_ID } from '../test/harness';
import { RESEARCH } from '../test/fixtures';
import { WorkspaceProvider } from '../app/workspace';
import { StartRunPage } from './StartRun';

const COGNITION = {
  id: '7d2c6a1e-0000-4000-8000-000000000001',
  key: 'cognition',
  name: 'Cognition',
  domain: 'research and knowledge acquisition',
  description: 'Researches markets.',
  default_flow: 'research',
  default_model: 'standard',
};

function gateway(answer: () => Response) {
  return fakeGateway({
    'GET /v1/agents': () => json({ data: [COGNITION] }),
    'GET /v1/flows': () =>
      json({
        data: [
          { name: 'research', description: 'Plans research.', agents: ['cognition'], input_schema: RESEARCH },
        ],
        next_cursor: null,
      }),
    'POST /v1/agent-runs': answer,
  });
}

function renderStart(gw: ReturnType<typeof gateway>) {
  const ws = workspace('member');
  return renderWithApp(null, {
    gateway: gw,
    path: `/w/${WS_ID}/start/cognition`,
    routes: [
      {
        path: '/w/:workspaceId/start/:agent',
        element: (
          <WorkspaceProvider workspace={ws}>
            <StartRunPage />
          </WorkspaceProvider>
        ),
      },
      { path: '/w/:workspaceId/runs/:runId', element: <h1>Run page stand-in</h1> },
    ],
  });
}

describe('Start a run', () => {
  it("builds the form from the flow's schema and shows the API's 422 field messages beside the fields", async () => {
    const gw = gateway(() =>
      apiError(422, 'validation_failed', 'Invalid request: body.input.topic: is too vague', 'corr-422', {
        fields: [{ path: 'body.input.topic', message: 'is too vague' }],
      }),
    );
    renderStart(gw);
    const user = userEvent.setup();
    expect(await screen.findByRole('heading', { name: 'Start a run', level: 1 })).toBeTruthy();
    const topic = await screen.findByRole('textbox', { name: 'Topic' });
    await user.type(topic, 'stuff');
    await user.click(screen.getByRole('button', { name: 'Start run' }));

    await waitFor(() => expect(topic.getAttribute('aria-invalid')).toBe('true'));
    const describedBy = topic.getAttribute('aria-describedby')!.split(' ');
    expect(document.getElementById(describedBy[0]!)!.textContent).toBe('Is too vague');
    // The error's message and correlation id are shown too.
    expect(screen.getByRole('alert').textContent).toContain('corr-422');

    const post = gw.calls.find((c) => c.method === 'POST')!;
    expect(post.body).toEqual({ agent: 'cognition', input: { topic: 'stuff', depth: 'standard' } });
    expect(post.headers.get('authorization')).toBe('Bearer t0k3n');
    expect(post.headers.get('x-workspace-id')).toBe(WS_ID);
  });

  it('opens the run page once the run is queued', async () => {
    const gw = gateway(() => json({ id: 'a7a7a7a7-0000-4000-8000-000000000009', status: 'queued' }, 202));
    renderStart(gw);
    const user = userEvent.setup();
    await user.type(await screen.findByRole('textbox', { name: 'Topic' }), 'oat milk for gen z');
    await user.selectOptions(screen.getByRole('combobox', { name: 'Depth' }), 'quick');
    await user.click(screen.getByRole('button', { name: 'Start run' }));
    expect(await screen.findByRole('heading', { name: 'Run page stand-in' })).toBeTruthy();
    expect(gw.calls.find((c) => c.method === 'POST')!.body).toEqual({
      agent: 'cognition',
      input: { topic: 'oat milk for gen z', depth: 'quick' },
    });
  });
});
