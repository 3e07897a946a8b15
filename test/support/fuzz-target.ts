import { parseSettings } from '@raptorflow/core/config/settings';
import type { Settings } from '@raptorflow/core/config/settings';
import { RunEventLog } from '@raptorflow/data/runs/run-events';
import { insertRun, seedLords } from './agent-runs';
import { newUser, newWorkspace } from './factories';
import type { TestUser, TestWorkspace } from './factories';
import { startGateway } from './gateway';
import type { TestStack } from './stack';

export interface FuzzTarget {
  url: string;
  close: () => Promise<void>;
  settings: Settings;
  owner: TestUser;
  member: TestUser;
  ws: TestWorkspace;
  runId: string;
}

/**
 * The gateway the route fuzzes aim at: an owner who is also a platform admin (so admin routes get past auth
 * to their own validation), a member, the seven Lords, and a finished run with its terminal event (so a
 * stream opened on it replays and ends). Rate limits are lifted: the fuzz measures the routes, not the limiter.
 * `overrides` are set on the parsed settings (e.g. `environment: 'development'` to open the dev sign-in).
 */
export async function startFuzzTarget(
  stack: TestStack,
  overrides: Partial<Settings> = {},
): Promise<FuzzTarget> {
  const owner = await newUser();
  const member = await newUser();
  const parsed = parseSettings({
    ...process.env,
    ADMIN_USER_IDS: owner.id,
    RATE_LIMIT_USER_PER_MINUTE: '1000000',
    RATE_LIMIT_WORKSPACE_PER_MINUTE: '1000000',
  });
  const settings: Settings = { ...parsed, ...overrides };
  const { url, close } = await startGateway(stack, settings);
  const ws = await newWorkspace(stack.db, owner, { members: [{ user: member, role: 'member' }] });
  await seedLords(stack.db, ws.id);
  const run = await insertRun(stack.db, ws.id, 'cognition', {
    status: 'completed',
    completed_at: new Date(),
  });
  await new RunEventLog({ db: stack.db, redis: stack.redis, prefix: stack.prefix }).append(run, 'status', {
    status: 'completed',
  });
  return { url, close, settings, owner, member, ws, runId: run.id };
}
