import { screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { describe, expect, it } from 'vitest';
import type { Role } from '../api/types';
import { fakeGateway, json, renderWithApp, USER_ID, workspace, WS_ID } from '../test/harness';
import { routes } from './routes';

const OWNER_ID = '0a0a0a0a-0000-4000-8000-000000000001';

/** The console at `path` for someone with `role` in the one workspace, on the real routes. */
function renderAs(role: Role, path: string, extra: Parameters<typeof fakeGateway>[0] = {}) {
  const gw = fakeGateway({
    'GET /v1/workspaces': () => json({ data: [workspace(role)], next_cursor: null }),
    'GET /v1/agents': () => json({ data: [] }),
    'GET /v1/agent-runs/stats': () =>
      json({
        from: '2026-11-01T00:00:00.000Z',
        to: '2026-11-30T00:00:00.000Z',
        total: 0,
        by_status: { queued: 0, running: 0, completed: 0, failed: 0, cancelled: 0 },
        by_agent: [],
        duration_ms: { p50: null, p95: null },
        cost_usd: { total: 0, per_run_avg: null },
      }),
    'GET /v1/workspaces/{workspace_id}/budget': () =>
      json({ workspace_id: WS_ID, monthly_budget_usd: 50, source: 'default', updated_at: null }),
    'PUT /v1/workspaces/{workspace_id}/budget': async (req) =>
      json({
        workspace_id: WS_ID,
        monthly_budget_usd: ((await req.json()) as { monthly_budget_usd: number }).monthly_budget_usd,
        source: 'workspace',
        updated_at: '2026-11-30T10:00:00.000Z',
      }),
    'GET /v1/workspaces/{workspace_id}/members': () =>
      json({
        data: [
          {
            user_id: OWNER_ID,
            role: 'owner',
            created_at: '2026-11-01T00:00:00.000Z',
            updated_at: '2026-11-01T00:00:00.000Z',
          },
          {
            user_id: USER_ID,
            role,
            created_at: '2026-11-02T00:00:00.000Z',
            updated_at: '2026-11-02T00:00:00.000Z',
          },
        ],
        next_cursor: null,
      }),
    ...extra,
  });
  return { gw, ...renderWithApp(null, { gateway: gw, routes, path }) };
}

const navLinks = async () => {
  const nav = await screen.findByRole('navigation', { name: 'Main' });
  return within(nav)
    .getAllByRole('link')
    .map((a) => a.textContent);
};

describe('actions the role may not take are hidden', () => {
  it('a member sees no Members or Audit log section', async () => {
    renderAs('member', `/w/${WS_ID}/dashboard`);
    await screen.findByRole('heading', { name: 'Council of Lords', level: 1 });
    expect(await navLinks()).toEqual(['Dashboard', 'Runs', 'Costs', 'Budget', 'Guardrails', 'Memory']);
  });

  it('an admin sees every section', async () => {
    renderAs('admin', `/w/${WS_ID}/dashboard`);
    await screen.findByRole('heading', { name: 'Council of Lords', level: 1 });
    expect(await navLinks()).toEqual([
      'Dashboard',
      'Runs',
      'Costs',
      'Budget',
      'Members',
      'Guardrails',
      'Audit log',
      'Memory',
    ]);
  });

  it.each(['member', 'admin'] as const)(
    'the budget form is for owners only: a %s reads the budget, cannot change it',
    async (role) => {
      renderAs(role, `/w/${WS_ID}/budget`);
      await screen.findByRole('heading', { name: 'Budget', level: 1 });
      await screen.findByText('Only owners can change the budget');
      expect(screen.queryByRole('textbox', { name: 'Monthly budget (USD)' })).toBeNull();
      expect(screen.queryByRole('button', { name: 'Save budget' })).toBeNull();
      expect(screen.getByText('$50.00')).toBeTruthy();
    },
  );

  it('an owner changes the budget; an amount with more than six decimals is refused before it is sent', async () => {
    const { gw } = renderAs('owner', `/w/${WS_ID}/budget`);
    const user = userEvent.setup();
    const field = await screen.findByRole('textbox', { name: 'Monthly budget (USD)' });
    await user.clear(field);
    await user.type(field, '12.1234567');
    await user.click(screen.getByRole('button', { name: 'Save budget' }));
    expect(field.getAttribute('aria-invalid')).toBe('true');
    expect(gw.calls.some((c) => c.method === 'PUT')).toBe(false);
    await user.clear(field);
    await user.type(field, '250');
    await user.click(screen.getByRole('button', { name: 'Save budget' }));
    await screen.findByText('Saved.');
    expect(gw.calls.find((c) => c.method === 'PUT')!.body).toEqual({ monthly_budget_usd: 250 });
    expect(screen.queryByText('Only owners can change the budget')).toBeNull();
  });

  it('an admin may change members but not owners, and cannot grant owner', async () => {
    renderAs('admin', `/w/${WS_ID}/members`);
    await screen.findByRole('heading', { name: 'Members', level: 1 });
    await screen.findByText(OWNER_ID);
    expect(screen.queryByRole('button', { name: `Remove ${OWNER_ID}` })).toBeNull();
    expect(screen.queryByRole('combobox', { name: `Role of ${OWNER_ID}` })).toBeNull();
    const mine = screen.getByRole('combobox', { name: `Role of ${USER_ID} (you)` }) as HTMLSelectElement;
    expect([...mine.options].map((o) => o.value)).toEqual(['admin', 'member']);
    const addRole = screen.getByRole('combobox', { name: 'Role' }) as HTMLSelectElement;
    expect([...addRole.options].map((o) => o.value)).toEqual(['admin', 'member']);
  });

  it('a member is told the member list is for admins, and it is not even asked for', async () => {
    const { gw } = renderAs('member', `/w/${WS_ID}/members`);
    await screen.findByText('Only admins and owners can see and manage the members of a workspace.');
    expect(screen.queryByRole('button', { name: 'Add member' })).toBeNull();
    await waitFor(() => expect(gw.calls.some((c) => c.path.includes('/members'))).toBe(false));
  });

  it('renaming a workspace is offered to admins and owners only', async () => {
    renderAs('member', '/workspaces');
    await screen.findByRole('link', { name: 'Acme' });
    expect(screen.queryByRole('button', { name: 'Rename Acme' })).toBeNull();
    expect(screen.getByRole('textbox', { name: 'Workspace name' })).toBeTruthy();
    expect(screen.getByRole('button', { name: 'Create workspace' })).toBeTruthy();
  });

  it('an admin renames a workspace', async () => {
    const { gw } = renderAs('admin', '/workspaces', {
      'PATCH /v1/workspaces/{workspace_id}': async (req) =>
        json(workspace('admin', { name: ((await req.json()) as { name: string }).name })),
    });
    const user = userEvent.setup();
    await user.click(await screen.findByRole('button', { name: 'Rename Acme' }));
    const field = screen.getByRole('textbox', { name: 'New name for Acme' });
    await user.clear(field);
    await user.type(field, 'Acme Europe');
    await user.click(screen.getByRole('button', { name: 'Save name' }));
    await waitFor(() =>
      expect(gw.calls.find((c) => c.method === 'PATCH')?.body).toEqual({ name: 'Acme Europe' }),
    );
    expect(gw.calls.find((c) => c.method === 'PATCH')!.path).toBe(`/v1/workspaces/${WS_ID}`);
  });
});
