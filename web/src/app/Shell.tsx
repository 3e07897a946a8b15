import { useEffect, useId, useRef, useState } from 'react';
import { Link, NavLink, Outlet, useLocation, useMatch, useNavigate, useNavigation } from 'react-router';
import { useWorkspaces } from '../api/queries';
import { roleAtLeast } from '../api/types';
import type { Role } from '../api/types';
import { SignIn } from '../auth/SignIn';
import { StandInBanner } from '../components/StandInBanner';
import { Loading } from '../components/States';
import { useSession } from './session';
import { lastWorkspace } from './workspace';

/** The sections of a workspace; `min` hides a section whose data the role may not read. */
export const SECTIONS: ReadonlyArray<{ path: string; label: string; min?: Role }> = [
  { path: 'dashboard', label: 'Dashboard' },
  { path: 'runs', label: 'Runs' },
  { path: 'costs', label: 'Costs' },
  { path: 'budget', label: 'Budget' },
  { path: 'members', label: 'Members', min: 'admin' },
  { path: 'guardrails', label: 'Guardrails' },
  { path: 'audit', label: 'Audit log', min: 'admin' },
  { path: 'memory', label: 'Memory' },
];

/** Header, the stand-in banner, the navigation and the page: every screen, signed in or not. */
export function Shell() {
  const { status, config } = useSession();
  return (
    <div className="app">
      <a className="skip-link" href="#main">
        Skip to content
      </a>
      {status === 'signed-in' ? (
        <SignedInChrome />
      ) : (
        <>
          <header className="app-header">
            <Brand />
          </header>
          <StandInBanner config={config} />
          <main id="main" className="app-main" tabIndex={-1}>
            {status === 'loading' ? <Loading label="Checking your session…" /> : <SignIn />}
          </main>
        </>
      )}
    </div>
  );
}

function Brand() {
  return (
    <Link to="/" className="brand">
      <span aria-hidden="true" className="brand-mark">
        ◆
      </span>{' '}
      RaptorFlow
    </Link>
  );
}

function SignedInChrome() {
  const { config, session, signOut } = useSession();
  const workspaces = useWorkspaces();
  const match = useMatch('/w/:workspaceId/*');
  const fromUrl = match?.params.workspaceId;
  const remembered = lastWorkspace();
  const list = workspaces.data ?? [];
  const current =
    list.find((w) => w.id === fromUrl) ?? (fromUrl ? undefined : list.find((w) => w.id === remembered));
  const [menuOpen, setMenuOpen] = useState(false);
  const location = useLocation();
  const navigation = useNavigation();
  const navId = useId();

  // After following a link the menu closes (small screens) and focus moves to the new page, so keyboard and
  // screen reader users start at its content rather than at the link they left.
  const firstPath = useRef(location.pathname);
  useEffect(() => {
    setMenuOpen(false);
    if (location.pathname === firstPath.current) return;
    firstPath.current = '';
    document.getElementById('main')?.focus({ preventScroll: false });
  }, [location.pathname]);

  return (
    <>
      <header className="app-header">
        <Brand />
        {current && (
          <button
            type="button"
            className="button menu-toggle"
            aria-expanded={menuOpen}
            aria-controls={navId}
            onClick={() => setMenuOpen((o) => !o)}
          >
            Menu
          </button>
        )}
        <div className="header-tools">
          <WorkspaceSwitcher currentId={current?.id ?? null} />
          <span className="user muted small" title={session?.userId ?? undefined}>
            {session?.email ?? (session?.source === 'dev' ? 'Development user' : 'Signed in')}
          </span>
          <button type="button" className="button secondary" onClick={() => void signOut()}>
            Sign out
          </button>
        </div>
      </header>
      <StandInBanner config={config} />
      <div className="app-body">
        {current && (
          <nav
            id={navId}
            aria-label="Main"
            className={`app-nav${menuOpen ? ' open' : ''}`}
            onKeyDown={(e) => {
              if (e.key === 'Escape' && menuOpen) setMenuOpen(false);
            }}
          >
            <p className="nav-workspace" title={current.name}>
              {current.name} <span className="muted small">({current.role})</span>
            </p>
            <ul>
              {SECTIONS.filter((s) => !s.min || roleAtLeast(current.role, s.min)).map((s) => (
                <li key={s.path}>
                  <NavLink to={`/w/${current.id}/${s.path}`}>{s.label}</NavLink>
                </li>
              ))}
            </ul>
          </nav>
        )}
        <main id="main" className="app-main" tabIndex={-1} aria-busy={navigation.state === 'loading'}>
          {navigation.state === 'loading' && <div className="route-progress" aria-hidden="true" />}
          <Outlet />
        </main>
      </div>
    </>
  );
}

function WorkspaceSwitcher({ currentId }: { currentId: string | null }) {
  const workspaces = useWorkspaces();
  const navigate = useNavigate();
  const match = useMatch('/w/:workspaceId/:section/*');
  const id = useId();
  const list = workspaces.data ?? [];
  if (list.length === 0)
    return (
      <Link to="/workspaces" className="small">
        Workspaces
      </Link>
    );
  return (
    <div className="switcher">
      <label htmlFor={id} className="small">
        Workspace
      </label>
      <select
        id={id}
        value={currentId ?? ''}
        onChange={(e) => {
          const section = match?.params.section ?? 'dashboard';
          if (e.target.value === '__manage') navigate('/workspaces');
          else if (e.target.value)
            navigate(`/w/${e.target.value}/${section === 'start' ? 'dashboard' : section}`);
        }}
      >
        {!currentId && <option value="">Choose…</option>}
        {list.map((w) => (
          <option key={w.id} value={w.id}>
            {w.name}
          </option>
        ))}
        <option value="__manage">Manage workspaces…</option>
      </select>
    </div>
  );
}
