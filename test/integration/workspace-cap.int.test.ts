import { getSettings } from '@raptorflow/core/config/settings';
import { detectMemorySearchPath } from '@raptorflow/data/memory/memory-vector';
import type { Settings } from '@raptorflow/core/config/settings';
import { createApp } from '../../services/gateway/src/app';
import { newUser, newWorkspace } from '../support/factories';
import { expectError } from '../support/gateway';
import { client, listen } from '../support/http';
import { openStack } from '../support/stack';

/**
 * Each workspace brings its own monthly budget, so one user creating workspaces without end multiplies what
 * they may spend: MAX_WORKSPACES_PER_USER caps the workspaces a user owns, exactly, even under a burst.
 */
const stack = openStack();
const CAP = 3;
let url: string;
let close: () => Promise<void>;
beforeAll(async () => {
  const settings = { ...getSettings(), maxWorkspacesPerUser: CAP } as Settings;
  ({ url, close } = await listen(
    createApp({
      settings,
      db: stack.db,
      bus: stack.bus,
      redis: stack.redis,
      memoryPath: await detectMemorySearchPath(stack.db),
    }),
  ));
});
afterAll(async () => {
  await close?.();
  await stack.close();
});

const owned = async (userId: string) =>
  Number(
    (await stack.db('workspace_members').where({ user_id: userId, role: 'owner' }).count('* as n'))[0]!.n,
  );

it('a burst of creates by one user stops exactly at the cap, with 409 naming it', async () => {
  const user = await newUser();
  const c = client(url, user.token);
  const results = await Promise.all(
    Array.from({ length: CAP * 3 }, (_, i) => c.post('/v1/workspaces', { name: `Burst ${i}` })),
  );
  expect(results.filter((r) => r.status === 201)).toHaveLength(CAP);
  const refused = results.filter((r) => r.status !== 201);
  expect(refused).toHaveLength(CAP * 2);
  for (const r of refused) {
    expectError(r, 409, 'conflict');
    expect(r.body.error.message).toContain(`own ${CAP} workspaces`);
    expect(r.body.error.details).toEqual({ max_workspaces_per_user: CAP });
  }
  expect(await owned(user.id)).toBe(CAP);
  // Refused creates left nothing behind: no workspace and no workspace.created event beyond the cap.
  const events = await stack
    .db('event_outbox')
    .where({ event_type: 'workspace.created' })
    .whereRaw(`envelope->'payload'->>'created_by' = ?`, [user.id])
    .count('* as n');
  expect(Number(events[0]!.n)).toBe(CAP);
});

it('counts owned workspaces only: being a member elsewhere does not use the allowance', async () => {
  const user = await newUser();
  for (let i = 0; i < CAP; i++)
    await newWorkspace(stack.db, await newUser(), { members: [{ user, role: 'admin' }] });
  const res = await client(url, user.token).post('/v1/workspaces', { name: 'Mine' });
  expect(res.status).toBe(201);
});
