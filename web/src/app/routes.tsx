import { Navigate, useLocation, useParams } from 'react-router';
import type { RouteObject } from 'react-router';
import { useWorkspaces } from '../api/queries';
import { ErrorState, Loading } from '../components/States';
import { Shell } from './Shell';
import { lastWorkspace, WorkspaceScope } from './workspace';

/** Every page is its own chunk, loaded when first visited. */
const page =
  <M,>(load: () => Promise<M>, pick: (m: M) => React.ComponentType) =>
  async () => ({ Component: pick(await load()) });

const workspaceRoutes: RouteObject[] = [
  { index: true, element: <Navigate to="dashboard" replace /> },
  {
    path: 'dashboard',
    lazy: page(
      () => import('../pages/Dashboard'),
      (m) => m.DashboardPage,
    ),
  },
  {
    path: 'start',
    lazy: page(
      () => import('../pages/StartRun'),
      (m) => m.StartRunPage,
    ),
  },
  {
    path: 'start/:agent',
    lazy: page(
      () => import('../pages/StartRun'),
      (m) => m.StartRunPage,
    ),
  },
  {
    path: 'runs',
    lazy: page(
      () => import('../pages/Runs'),
      (m) => m.RunsPage,
    ),
  },
  {
    path: 'runs/:runId',
    lazy: page(
      () => import('../pages/Run'),
      (m) => m.RunPage,
    ),
  },
  {
    path: 'costs',
    lazy: page(
      () => import('../pages/Costs'),
      (m) => m.CostsPage,
    ),
  },
  {
    path: 'budget',
    lazy: page(
      () => import('../pages/Budget'),
      (m) => m.BudgetPage,
    ),
  },
  {
    path: 'members',
    lazy: page(
      () => import('../pages/Members'),
      (m) => m.MembersPage,
    ),
  },
  {
    path: 'guardrails',
    lazy: page(
      () => import('../pages/Guardrails'),
      (m) => m.GuardrailsPage,
    ),
  },
  {
    path: 'audit',
    lazy: page(
      () => import('../pages/AuditLog'),
      (m) => m.AuditLogPage,
    ),
  },
  {
    path: 'memory',
    lazy: page(
      () => import('../pages/Memory'),
      (m) => m.MemoryPage,
    ),
  },
];

const SECTION_PATHS = new Set([
  'dashboard',
  'start',
  'runs',
  'costs',
  'budget',
  'members',
  'guardrails',
  'audit',
  'memory',
]);

/** Where `/` leads: the last workspace used, else the first, else the workspaces page to create one. */
function Home() {
  const workspaces = useWorkspaces();
  if (workspaces.isPending) return <Loading label="Loading your workspaces…" />;
  if (workspaces.error)
    return <ErrorState error={workspaces.error} onRetry={() => void workspaces.refetch()} />;
  const list = workspaces.data ?? [];
  const target = list.find((w) => w.id === lastWorkspace()) ?? list[0];
  return <Navigate to={target ? `/w/${target.id}/dashboard` : '/workspaces'} replace />;
}

/** `/runs`, `/costs/…`: the same section of the current workspace. */
function SectionRedirect() {
  const { section = '' } = useParams();
  const location = useLocation();
  const workspaces = useWorkspaces();
  if (!SECTION_PATHS.has(section)) return <NotFound />;
  if (workspaces.isPending) return <Loading />;
  const list = workspaces.data ?? [];
  const target = list.find((w) => w.id === lastWorkspace()) ?? list[0];
  if (!target) return <Navigate to="/workspaces" replace />;
  return <Navigate to={`/w/${target.id}${location.pathname}${location.search}`} replace />;
}

function NotFound() {
  return (
    <div className="page">
      <h1>Page not found</h1>
      <p>
        There is nothing at this address. <a href="/">Go to the console’s start page</a>.
      </p>
    </div>
  );
}

function RouteError() {
  return (
    <div className="page">
      <h1>This page failed to load</h1>
      <p>
        Reload the page; if the console was just updated, a part of it may have moved.{' '}
        <a href="/">Go to the start page</a>.
      </p>
    </div>
  );
}

export const routes: RouteObject[] = [
  {
    path: '/',
    element: <Shell />,
    errorElement: <RouteError />,
    // Shown while the first page's chunk loads.
    hydrateFallbackElement: <Loading label="Starting the console…" />,
    children: [
      { index: true, element: <Home /> },
      {
        path: 'workspaces',
        lazy: page(
          () => import('../pages/Workspaces'),
          (m) => m.WorkspacesPage,
        ),
      },
      { path: 'w/:workspaceId', element: <WorkspaceScope />, children: workspaceRoutes },
      { path: ':section/*', element: <SectionRedirect /> },
    ],
  },
];
