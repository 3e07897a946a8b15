import { createContext, useContext, useEffect } from 'react';
import { Link, Outlet, useParams } from 'react-router';
import { useWorkspaces } from '../api/queries';
import type { Role, Workspace } from '../api/types';
import { ErrorState, Loading } from '../components/States';

export const LAST_WORKSPACE_KEY = 'raptorflow.workspace';

export function rememberWorkspace(id: string): void {
  try {
    localStorage.setItem(LAST_WORKSPACE_KEY, id);
  } catch {
    // Storage may be unavailable (private mode): the URL still carries the workspace.
  }
}

export function lastWorkspace(): string | null {
  try {
    return localStorage.getItem(LAST_WORKSPACE_KEY);
  } catch {
    return null;
  }
}

export interface WorkspaceContextValue {
  workspace: Workspace;
  role: Role;
}

const WorkspaceContext = createContext<WorkspaceContextValue | null>(null);

export function useWorkspace(): WorkspaceContextValue {
  const value = useContext(WorkspaceContext);
  if (!value) throw new Error('useWorkspace outside a workspace route');
  return value;
}

export function WorkspaceProvider({
  workspace,
  children,
}: {
  workspace: Workspace;
  children: React.ReactNode;
}) {
  return (
    <WorkspaceContext.Provider value={{ workspace, role: workspace.role }}>
      {children}
    </WorkspaceContext.Provider>
  );
}

/** `/w/:workspaceId/*`: the workspace (and the caller's role in it, from GET /v1/workspaces) for the pages. */
export function WorkspaceScope() {
  const { workspaceId = '' } = useParams();
  const workspaces = useWorkspaces();
  const workspace = workspaces.data?.find((w) => w.id === workspaceId);
  useEffect(() => {
    if (workspace) rememberWorkspace(workspace.id);
  }, [workspace]);
  if (workspaces.isPending) return <Loading label="Loading the workspace…" />;
  if (workspaces.error)
    return <ErrorState error={workspaces.error} onRetry={() => void workspaces.refetch()} />;
  if (!workspace)
    return (
      <div className="page">
        <h1>Workspace not found</h1>
        <p>This workspace does not exist or you are not one of its members.</p>
        <p>
          <Link to="/workspaces">Choose a workspace</Link>
        </p>
      </div>
    );
  return (
    <WorkspaceProvider workspace={workspace}>
      <Outlet />
    </WorkspaceProvider>
  );
}
