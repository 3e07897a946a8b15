import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useId, useState } from 'react';
import type { FormEvent } from 'react';
import { unwrap } from '../api/client';
import { keys } from '../api/queries';
import { ROLES, roleAtLeast } from '../api/types';
import type { Member, Role } from '../api/types';
import { useApi, useSession } from '../app/session';
import { useWorkspace } from '../app/workspace';
import { useDocumentTitle } from '../components/useDocumentTitle';
import { dateTime } from '../components/format';
import { TableWrap } from '../components/TableWrap';
import { Empty, ErrorState, QueryView } from '../components/States';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** The roles `actor` may hand out or take away: owners any, admins not owner. */
export function assignableRoles(actor: Role): Role[] {
  return actor === 'owner' ? [...ROLES] : ROLES.filter((r) => r !== 'owner');
}

/** Whether `actor` may change or remove a member who has `target` (only owners touch owners). */
export function canManage(actor: Role, target: Role): boolean {
  return roleAtLeast(actor, 'admin') && (target !== 'owner' || actor === 'owner');
}

/** Members and their roles (admins and owners; plain members do not see this page's data). */
export function MembersPage() {
  const api = useApi();
  const { workspace, role } = useWorkspace();
  useDocumentTitle('Members', workspace.name);
  const members = useQuery({
    queryKey: keys.members(workspace.id),
    enabled: roleAtLeast(role, 'admin'),
    queryFn: async () => {
      const all: Member[] = [];
      let cursor: string | undefined;
      for (let i = 0; i < 50; i++) {
        const page = await unwrap(
          api.GET('/v1/workspaces/{workspace_id}/members', {
            params: {
              path: { workspace_id: workspace.id },
              query: { limit: 100, ...(cursor ? { cursor } : {}) },
            },
          }),
        );
        all.push(...page.data);
        if (!page.next_cursor) break;
        cursor = page.next_cursor;
      }
      return all;
    },
  });

  if (!roleAtLeast(role, 'admin'))
    return (
      <div className="page">
        <h1>Members</h1>
        <p className="notice">Only admins and owners can see and manage the members of a workspace.</p>
      </div>
    );
  return (
    <div className="page">
      <h1>Members</h1>
      <AddMember />
      <section aria-labelledby="members-list-h">
        <h2 id="members-list-h">People in {workspace.name}</h2>
        <QueryView query={members} loading="Loading the members…">
          {(list) =>
            list.length === 0 ? (
              <Empty>No members.</Empty>
            ) : (
              <TableWrap label="Member list">
                <table>
                  <thead>
                    <tr>
                      <th scope="col">User</th>
                      <th scope="col">Role</th>
                      <th scope="col">Member since</th>
                      <th scope="col">
                        <span className="visually-hidden">Actions</span>
                      </th>
                    </tr>
                  </thead>
                  <tbody>
                    {list.map((m) => (
                      <MemberRow
                        key={m.user_id}
                        member={m}
                        owners={list.filter((x) => x.role === 'owner').length}
                      />
                    ))}
                  </tbody>
                </table>
              </TableWrap>
            )
          }
        </QueryView>
      </section>
    </div>
  );
}

function MemberRow({ member, owners }: { member: Member; owners: number }) {
  const api = useApi();
  const queryClient = useQueryClient();
  const { session } = useSession();
  const { workspace, role } = useWorkspace();
  const selectId = useId();
  const isMe = session?.userId?.toLowerCase() === member.user_id.toLowerCase();
  const lastOwner = member.role === 'owner' && owners <= 1;
  const manageable = canManage(role, member.role) && !lastOwner;
  const path = { workspace_id: workspace.id, user_id: member.user_id };
  const refresh = () => {
    void queryClient.invalidateQueries({ queryKey: keys.members(workspace.id) });
    if (isMe) void queryClient.invalidateQueries({ queryKey: keys.workspaces });
  };
  const change = useMutation({
    mutationFn: (next: Role) =>
      unwrap(
        api.PATCH('/v1/workspaces/{workspace_id}/members/{user_id}', {
          params: { path },
          body: { role: next },
        }),
      ),
    onSuccess: refresh,
  });
  const remove = useMutation({
    mutationFn: () =>
      unwrap(api.DELETE('/v1/workspaces/{workspace_id}/members/{user_id}', { params: { path } })),
    onSuccess: refresh,
  });
  const who = `${member.user_id}${isMe ? ' (you)' : ''}`;
  return (
    <tr>
      <td>
        <code className="user-id">{member.user_id}</code>
        {isMe && <span className="muted small"> (you)</span>}
      </td>
      <td>
        {manageable ? (
          <>
            <label htmlFor={selectId} className="visually-hidden">
              Role of {who}
            </label>
            <select
              id={selectId}
              value={member.role}
              disabled={change.isPending}
              onChange={(e) => change.mutate(e.target.value as Role)}
            >
              {assignableRoles(role).map((r) => (
                <option key={r} value={r}>
                  {r}
                </option>
              ))}
            </select>
          </>
        ) : (
          <>
            {member.role}
            {lastOwner && <span className="muted small"> (last owner)</span>}
          </>
        )}
        {change.error && <ErrorState error={change.error} title="The role was not changed" />}
      </td>
      <td>{dateTime(member.created_at)}</td>
      <td>
        {manageable && (
          <button
            type="button"
            className="button secondary small-button"
            disabled={remove.isPending}
            aria-label={`Remove ${who}`}
            onClick={() => remove.mutate()}
          >
            Remove
          </button>
        )}
        {remove.error && <ErrorState error={remove.error} title="The member was not removed" />}
      </td>
    </tr>
  );
}

function AddMember() {
  const api = useApi();
  const queryClient = useQueryClient();
  const { workspace, role } = useWorkspace();
  const [userId, setUserId] = useState('');
  const [newRole, setNewRole] = useState<Role>('member');
  const [problem, setProblem] = useState<string | null>(null);
  const id = useId();
  const add = useMutation({
    mutationFn: () =>
      unwrap(
        api.POST('/v1/workspaces/{workspace_id}/members', {
          params: { path: { workspace_id: workspace.id } },
          body: { user_id: userId.trim(), role: newRole },
        }),
      ),
    onSuccess: () => {
      setUserId('');
      void queryClient.invalidateQueries({ queryKey: keys.members(workspace.id) });
    },
  });
  function submit(e: FormEvent) {
    e.preventDefault();
    if (!UUID.test(userId.trim()))
      return setProblem('Enter the user’s id, a UUID like 2f1d7a0e-1111-4222-8333-444455556666.');
    setProblem(null);
    add.mutate();
  }
  return (
    <section aria-labelledby={`${id}-h`} className="card">
      <h2 id={`${id}-h`}>Add a member</h2>
      <form className="form inline-form" onSubmit={submit} noValidate>
        <div className="field">
          <label htmlFor={`${id}-user`}>User id</label>
          <input
            id={`${id}-user`}
            type="text"
            value={userId}
            autoComplete="off"
            spellCheck={false}
            aria-invalid={problem ? true : undefined}
            aria-describedby={problem ? `${id}-err` : undefined}
            onChange={(e) => setUserId(e.target.value)}
          />
          {problem && (
            <p id={`${id}-err`} className="field-error">
              {problem}
            </p>
          )}
        </div>
        <div className="field">
          <label htmlFor={`${id}-role`}>Role</label>
          <select id={`${id}-role`} value={newRole} onChange={(e) => setNewRole(e.target.value as Role)}>
            {assignableRoles(role).map((r) => (
              <option key={r} value={r}>
                {r}
              </option>
            ))}
          </select>
        </div>
        <button type="submit" className="button" disabled={add.isPending}>
          Add member
        </button>
      </form>
      {add.error && <ErrorState error={add.error} title="The member was not added" />}
    </section>
  );
}
