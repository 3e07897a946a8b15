import { useMutation, useQueryClient } from '@tanstack/react-query';
import { useId, useState } from 'react';
import type { FormEvent } from 'react';
import { Link, useNavigate } from 'react-router';
import { unwrap } from '../api/client';
import { keys, useWorkspaces } from '../api/queries';
import { roleAtLeast } from '../api/types';
import type { Workspace } from '../api/types';
import { useApi } from '../app/session';
import { rememberWorkspace } from '../app/workspace';
import { useDocumentTitle } from '../components/useDocumentTitle';
import { dateTime } from '../components/format';
import { Empty, ErrorState, QueryView } from '../components/States';

/** The caller's workspaces: open one, create one, rename one (admins and owners). */
export function WorkspacesPage() {
  useDocumentTitle('Workspaces');
  const workspaces = useWorkspaces();
  return (
    <div className="page">
      <h1>Workspaces</h1>
      <CreateWorkspace />
      <section aria-labelledby="ws-list-h">
        <h2 id="ws-list-h">Your workspaces</h2>
        <QueryView query={workspaces} loading="Loading your workspaces…">
          {(list) =>
            list.length === 0 ? (
              <Empty>You are not in any workspace yet. Create one above to seat your Council of Lords.</Empty>
            ) : (
              <ul className="card-list">
                {list.map((w) => (
                  <WorkspaceRow key={w.id} workspace={w} />
                ))}
              </ul>
            )
          }
        </QueryView>
      </section>
    </div>
  );
}

function CreateWorkspace() {
  const api = useApi();
  const queryClient = useQueryClient();
  const navigate = useNavigate();
  const [name, setName] = useState('');
  const [problem, setProblem] = useState<string | null>(null);
  const id = useId();
  const create = useMutation({
    mutationFn: (n: string) => unwrap(api.POST('/v1/workspaces', { body: { name: n } })),
    onSuccess: async (created) => {
      queryClient.setQueryData<Workspace[]>(keys.workspaces, (old) => [...(old ?? []), created]);
      await queryClient.invalidateQueries({ queryKey: keys.workspaces });
      rememberWorkspace(created.id);
      setName('');
      navigate(`/w/${created.id}/dashboard`);
    },
  });
  function submit(e: FormEvent) {
    e.preventDefault();
    const trimmed = name.trim();
    if (!trimmed) return setProblem('Give the workspace a name.');
    if (trimmed.length > 200) return setProblem('A workspace name has at most 200 characters.');
    setProblem(null);
    create.mutate(trimmed);
  }
  return (
    <section aria-labelledby={`${id}-h`} className="card">
      <h2 id={`${id}-h`}>New workspace</h2>
      <form className="form inline-form" onSubmit={submit} noValidate>
        <div className="field">
          <label htmlFor={id}>Workspace name</label>
          <input
            id={id}
            type="text"
            value={name}
            maxLength={200}
            aria-invalid={problem ? true : undefined}
            aria-describedby={problem ? `${id}-err` : undefined}
            onChange={(e) => setName(e.target.value)}
          />
          {problem && (
            <p id={`${id}-err`} className="field-error">
              {problem}
            </p>
          )}
        </div>
        <button type="submit" className="button" disabled={create.isPending}>
          Create workspace
        </button>
      </form>
      {create.error && <ErrorState error={create.error} title="The workspace was not created" />}
    </section>
  );
}

function WorkspaceRow({ workspace }: { workspace: Workspace }) {
  const api = useApi();
  const queryClient = useQueryClient();
  const [editing, setEditing] = useState(false);
  const [name, setName] = useState(workspace.name);
  const id = useId();
  const rename = useMutation({
    mutationFn: (n: string) =>
      unwrap(
        api.PATCH('/v1/workspaces/{workspace_id}', {
          params: { path: { workspace_id: workspace.id } },
          body: { name: n },
        }),
      ),
    onSuccess: async () => {
      await queryClient.invalidateQueries({ queryKey: keys.workspaces });
      setEditing(false);
    },
  });
  const canRename = roleAtLeast(workspace.role, 'admin');
  return (
    <li className="card row-card">
      <div>
        <p className="row-title">
          <Link to={`/w/${workspace.id}/dashboard`}>{workspace.name}</Link>
        </p>
        <p className="muted small">
          Your role: {workspace.role} · created {dateTime(workspace.created_at)}
        </p>
      </div>
      {canRename &&
        (editing ? (
          <form
            className="form inline-form"
            onSubmit={(e) => {
              e.preventDefault();
              if (name.trim()) rename.mutate(name.trim());
            }}
          >
            <div className="field">
              <label htmlFor={id}>New name for {workspace.name}</label>
              <input
                id={id}
                type="text"
                value={name}
                maxLength={200}
                onChange={(e) => setName(e.target.value)}
              />
            </div>
            <button type="submit" className="button" disabled={rename.isPending || !name.trim()}>
              Save name
            </button>
            <button type="button" className="button secondary" onClick={() => setEditing(false)}>
              Cancel
            </button>
            {rename.error && <ErrorState error={rename.error} title="The workspace was not renamed" />}
          </form>
        ) : (
          <button
            type="button"
            className="button secondary"
            aria-label={`Rename ${workspace.name}`}
            onClick={() => {
              setName(workspace.name);
              setEditing(true);
            }}
          >
            Rename
          </button>
        ))}
    </li>
  );
}
