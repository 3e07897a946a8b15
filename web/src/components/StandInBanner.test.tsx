import { render, screen, within } from '@testing-library/react';
import { describe, expect, it } from 'vitest';
import { SignIn } from '../auth/SignIn';
import { Shell } from '../app/Shell';
import { fakeGateway, json, LIVE_CONFIG, renderWithApp, STAND_IN_CONFIG } from '../test/harness';
import { isStandInModel, StandInBanner } from './StandInBanner';

describe('the offline stand-in banner', () => {
  it('names the variables that turn real models on', () => {
    render(<StandInBanner config={STAND_IN_CONFIG} />);
    const region = screen.getByRole('region', { name: 'Offline models' });
    expect(region.textContent).toContain('offline stand-in');
    const vars = within(region)
      .getAllByText((_t, el) => el?.tagName === 'CODE')
      .map((c) => c.textContent);
    expect(vars).toEqual(['GOOGLE_CLOUD_PROJECT', 'GEMINI_API_KEY', 'ANTHROPIC_API_KEY']);
  });

  it('is absent when the models are real', () => {
    render(<StandInBanner config={LIVE_CONFIG} />);
    expect(screen.queryByRole('region', { name: 'Offline models' })).toBeNull();
  });

  it('is on every screen, the sign-in screen included', async () => {
    const gw = fakeGateway({ 'GET /v1/workspaces': () => json({ data: [], next_cursor: null }) });
    renderWithApp(null, {
      gateway: gw,
      config: STAND_IN_CONFIG,
      session: null,
      routes: [{ path: '*', element: <Shell /> }],
    });
    await screen.findByRole('button', { name: 'Continue as the development user' });
    expect(screen.getByRole('region', { name: 'Offline models' })).toBeTruthy();
    expect(screen.getByRole('banner')).toBeTruthy(); // header
    expect(screen.getByRole('main')).toBeTruthy();
  });

  it('knows stand-in models by alias and by model id', () => {
    expect(isStandInModel(STAND_IN_CONFIG, 'fast')).toBe(true);
    expect(isStandInModel(STAND_IN_CONFIG, 'gemini-3.1-pro-preview')).toBe(true);
    expect(isStandInModel(LIVE_CONFIG, 'fast')).toBe(false);
    expect(isStandInModel(STAND_IN_CONFIG, null)).toBe(false);
  });
});

describe('sign-in', () => {
  it('offers the development user when the gateway does, and keeps its token for this tab only', async () => {
    const gw = fakeGateway({
      'POST /v1/dev/session': () =>
        json({
          token: 'dev.jwt',
          user_id: '00000000-0000-4000-8000-00000000de71',
          expires_at: '2099-01-01T00:00:00.000Z',
        }),
      'GET /v1/workspaces': () => json({ data: [], next_cursor: null }),
    });
    renderWithApp(null, { gateway: gw, session: null, routes: [{ path: '*', element: <Shell /> }] });
    screen.getByRole('button', { name: 'Continue as the development user' }).click();
    await screen.findByRole('button', { name: 'Sign out' });
    expect(JSON.parse(sessionStorage.getItem('raptorflow.dev-session')!).token).toBe('dev.jwt');
    expect(localStorage.getItem('raptorflow.dev-session')).toBeNull();
  });

  it('offers no development sign-in when the gateway does not', () => {
    const gw = fakeGateway({});
    renderWithApp(<SignIn />, {
      gateway: gw,
      session: null,
      config: { ...LIVE_CONFIG, auth: { supabase: null, dev_login: false } },
    });
    expect(screen.queryByRole('button', { name: 'Continue as the development user' })).toBeNull();
    expect(screen.getByText(/No sign-in method is configured/)).toBeTruthy();
  });
});
