import { getSettings } from '@raptorflow/core/config/settings';
import type { Settings } from '@raptorflow/core/config/settings';
import { startGateway } from '../support/gateway';
import { openStack } from '../support/stack';

/**
 * Per-address limits (the admin sign-in lockout) count the client's address. Behind a load balancer that is
 * the X-Forwarded-For address — but only when TRUST_PROXY says the hop is trusted; otherwise a client could
 * pick a fresh address per guess by writing the header itself.
 */
const stack = openStack();
const closers: Array<() => Promise<void>> = [];
afterAll(async () => {
  for (const c of closers) await c();
  await stack.close();
});

const WRONG = `Basic ${Buffer.from('admin:not-the-password').toString('base64')}`;

async function gateway(trustProxy: Settings['trustProxy']): Promise<string> {
  const settings = {
    ...getSettings(),
    trustProxy,
    adminLogin: { maxFailures: 3, windowMs: 60_000 },
  } as Settings;
  const g = await startGateway(stack, settings);
  closers.push(g.close);
  return g.url;
}

async function guess(url: string, forwardedFor: string): Promise<number> {
  const res = await fetch(`${url}/admin/queues`, {
    headers: { authorization: WRONG, 'x-forwarded-for': forwardedFor },
  });
  await res.body?.cancel();
  return res.status;
}

it('TRUST_PROXY=loopback: each forwarded client has its own count', async () => {
  const url = await gateway('loopback');
  const first = [];
  for (let i = 0; i < 4; i++) first.push(await guess(url, '203.0.113.10'));
  expect(first).toEqual([401, 401, 401, 429]);
  // Another client behind the same proxy is not locked out by the first one's guesses.
  expect(await guess(url, '203.0.113.11')).toBe(401);
});

it('without TRUST_PROXY the header is ignored: a guesser cannot escape the count by rotating it', async () => {
  const url = await gateway(false);
  const answers = [];
  for (let i = 0; i < 4; i++) answers.push(await guess(url, `198.51.100.${i + 1}`));
  expect(answers).toEqual([401, 401, 401, 429]);
});
