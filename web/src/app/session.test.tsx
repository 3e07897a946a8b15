import { screen } from '@testing-library/react';
import { describe, expect, it } from 'vitest';
import { apiError, fakeGateway, json, LIVE_CONFIG, renderWithApp, workspace } from '../test/harness';
import { Shell } from './Shell';
import { routes } from './routes';

describe('the session', () => {
  it('restores a development session kept in this tab and sends its token', async () => {
    sessionStorage.setItem(
      'raptorflow.dev-session',
      JSON.stringify({ token: 'kept.jwt', user_id: 'u', expires_at: '2099-01-01T00:00:00.000Z' }),
    );
    const gw = fakeGateway({ 'GET /v1/workspaces': () => json({ data: [], next_cursor: null }) });
    renderWithApp(null, { gateway: gw, session: 'restore', routes, path: '/' });
    expect(await screen.findByRole('textbox', { name: 'Workspace name' })).toBeTruthy();
    expect(gw.calls[0]!.headers.get('authorization')).toBe('Bearer kept.jwt');
  });

  it('forgets an expired development session', async () => {
    sessionStorage.setItem(
      'raptorflow.dev-session',
      JSON.stringify({ token: 'old.jwt', user_id: 'u', expires_at: '2000-01-01T00:00:00.000Z' }),
    );
    renderWithApp(null, {
      gateway: fakeGateway({}),
      session: 'restore',
      config: LIVE_CONFIG,
      routes: [{ path: '*', element: <Shell /> }],
    });
    expect(await screen.findByRole('button', { name: 'Continue as the development user' })).toBeTruthy();
    expect(sessionStorage.getItem('raptorflow.dev-session')).toBeNull();
  });

  it('a 401 ends the session and says why on the sign-in screen', async () => {
    const gw = fakeGateway({
      'GET /v1/workspaces': () => json({ data: [workspace('owner')], next_cursor: null }),
      'GET /v1/agents': () => apiError(401, 'unauthenticated', 'Token expired', 'corr-401'),
      'GET /v1/agent-runs/stats': () => apiError(401, 'unauthenticated', 'Token expired', 'corr-401'),
    });
    renderWithApp(null, { gateway: gw, routes, path: `/w/${workspace('owner').id}/dashboard` });
    expect(await screen.findByText('Your session has ended. Sign in again.')).toBeTruthy();
    expect(screen.getByRole('button', { name: 'Continue as the development user' })).toBeTruthy();
  });
});
