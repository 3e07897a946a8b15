import { parseSettings } from '@raptorflow/core/config/settings';
import { newUser, newWorkspace } from '../support/factories';
import { expectError, useGateway } from '../support/gateway';
import { client, eventually } from '../support/http';
import { openStack } from '../support/stack';

const stack = openStack();
const gateway = useGateway(stack, () =>
  parseSettings({
    ...process.env,
    RATE_LIMIT_USER_PER_MINUTE: '5',
    RATE_LIMIT_WORKSPACE_PER_MINUTE: '3',
  }),
);
let url: string;
beforeAll(async () => {
  url = gateway.url();
  // The fail-fast Redis client lets requests through unlimited until it is connected: wait until a
  // throwaway user's request is counted (a fresh user each time, so no test's budget is spent).
  await eventually(async () => {
    const probe = await client(url, (await newUser()).token).get('/v1/workspaces');
    return probe.headers.get('ratelimit-policy') === '5;w=60';
  }, 10_000);
});

it('limits each user and each workspace through the real gateway, with standard headers', async () => {
  const alice = await newUser();
  const bob = await newUser();
  const ws = await newWorkspace(stack.db, alice, { members: [{ user: bob, role: 'member' }] });
  const a = client(url, alice.token);
  const first = await a.get('/v1/workspaces');
  expect(first.status).toBe(200);
  expect(first.headers.get('ratelimit-policy')).toBe('5;w=60');
  expect(first.headers.get('ratelimit-remaining')).toBe('4');

  // The workspace allows 3 per minute whoever asks: Alice twice, Bob once, then Bob is refused.
  expect((await a.get('/v1/agents')).headers.get('ratelimit-policy')).toBe('3;w=60');
  expect((await a.get('/v1/agents')).status).toBe(200);
  const b = client(url, bob.token);
  expect((await b.get(`/v1/workspaces/${ws.id}`)).status).toBe(200);
  const refused = await b.get('/v1/agents');
  expectError(refused, 429, 'rate_limited');
  expect(Number(refused.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);

  // Alice's own (user) budget: 3 used, 2 left, then 429 even on a route without a workspace.
  expect((await a.get('/v1/workspaces')).status).toBe(200);
  expect((await a.get('/v1/workspaces')).status).toBe(200);
  expectError(await a.get('/v1/workspaces'), 429, 'rate_limited');
});
