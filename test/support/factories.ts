import { randomUUID } from 'node:crypto';
import type { Knex } from 'knex';
import { getSettings } from '@raptorflow/core/config/settings';
import type { WorkspaceRole } from '@raptorflow/core/context/request-context';
import { mintDevToken } from '../../scripts/lib/dev-token';

export interface TestUser {
  id: string;
  token: string;
}

export async function newUser(opts: { ttlSeconds?: number } = {}): Promise<TestUser> {
  const id = randomUUID();
  const s = getSettings();
  const token = await mintDevToken({
    userId: id,
    secret: s.supabaseJwtSecret,
    audience: s.jwtAudience,
    ...opts,
  });
  return { id, token };
}

export interface TestWorkspace {
  id: string;
  name: string;
}

/** A workspace written straight to the database (no event): for tests about reads and guards. */
export async function newWorkspace(
  db: Knex,
  owner: TestUser,
  opts: { name?: string; members?: Array<{ user: TestUser; role: WorkspaceRole }> } = {},
): Promise<TestWorkspace> {
  const name = opts.name ?? `ws-${randomUUID().slice(0, 8)}`;
  const [ws] = await db('workspaces')
    .insert({ name, created_by: owner.id })
    .returning<TestWorkspace[]>(['id', 'name']);
  await db('workspace_members').insert({ workspace_id: ws!.id, user_id: owner.id, role: 'owner' });
  for (const m of opts.members ?? [])
    await db('workspace_members').insert({ workspace_id: ws!.id, user_id: m.user.id, role: m.role });
  return ws!;
}

/** One Lord row written straight to the database (no seeding): for tests about reads and scoping. */
export async function newAgent(
  db: Knex,
  workspaceId: string,
  overrides: Partial<{ key: string; name: string; domain: string; default_flow: string }> = {},
): Promise<{ id: string; key: string }> {
  const key = overrides.key ?? 'seer';
  const [row] = await db('agents')
    .insert({
      workspace_id: workspaceId,
      key,
      name: overrides.name ?? key,
      domain: overrides.domain ?? 'd',
      description: 'd',
      default_flow: overrides.default_flow ?? 'research',
      default_model: 'fast',
    })
    .returning<{ id: string; key: string }[]>(['id', 'key']);
  return row!;
}

export interface TestTeam {
  ws: TestWorkspace;
  owner: TestUser;
  admin: TestUser;
  member: TestUser;
}

/** A workspace with one owner, one admin and one member. */
export async function newTeam(db: Knex): Promise<TestTeam> {
  const owner = await newUser();
  const admin = await newUser();
  const member = await newUser();
  const ws = await newWorkspace(db, owner, {
    members: [
      { user: admin, role: 'admin' },
      { user: member, role: 'member' },
    ],
  });
  return { ws, owner, admin, member };
}
