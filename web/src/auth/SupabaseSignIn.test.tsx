import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { screen, waitFor } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { afterEach, describe, expect, it } from 'vitest';
import { Shell } from '../app/Shell';
import { fakeGateway, LIVE_CONFIG, renderWithApp } from '../test/harness';

/** A stand-in for Supabase Auth over real HTTP: it records the magic-link request. */
let server: http.Server | undefined;
afterEach(async () => {
  server?.closeAllConnections();
  await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
  server = undefined;
});

async function fakeSupabase() {
  const otp: Array<{ path: string; body: unknown; apikey: string | undefined }> = [];
  server = http.createServer((req, res) => {
    res.setHeader('Access-Control-Allow-Origin', '*');
    res.setHeader('Access-Control-Allow-Headers', '*');
    res.setHeader('Access-Control-Allow-Methods', 'GET, POST, OPTIONS');
    if (req.method === 'OPTIONS') return void res.end();
    let raw = '';
    req.on('data', (c: Buffer) => (raw += c.toString()));
    req.on('end', () => {
      if (req.url?.startsWith('/auth/v1/otp'))
        otp.push({ path: req.url, body: JSON.parse(raw || '{}'), apikey: req.headers.apikey as string });
      res.setHeader('Content-Type', 'application/json');
      res.end('{}');
    });
  });
  await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server!.address() as AddressInfo).port}`, otp };
}

describe('Supabase sign-in', () => {
  it('loads Supabase Auth on demand and sends a magic link to the address given', async () => {
    const supabase = await fakeSupabase();
    renderWithApp(null, {
      gateway: fakeGateway({}),
      session: 'restore',
      config: {
        ...LIVE_CONFIG,
        auth: { supabase: { url: supabase.url, anon_key: 'anon-key' }, dev_login: false },
      },
      routes: [{ path: '*', element: <Shell /> }],
    });
    const email = await screen.findByRole('textbox', { name: 'Email address' }, { timeout: 10_000 });
    expect(screen.queryByRole('button', { name: 'Continue as the development user' })).toBeNull();
    const user = userEvent.setup();
    await user.type(email, 'lead@acme.test');
    await user.click(screen.getByRole('button', { name: 'Email me a sign-in link' }));
    await screen.findByText(/We sent a sign-in link to/, undefined, { timeout: 10_000 });
    await waitFor(() => expect(supabase.otp).toHaveLength(1));
    expect(supabase.otp[0]!.body).toMatchObject({ email: 'lead@acme.test' });
    expect(supabase.otp[0]!.apikey).toBe('anon-key');
  }, 20_000);
});
