import { useMemo } from 'react';
import { Link } from 'react-router';
import { monthStartIso, useAgents, useRunStats } from '../api/queries';
import type { Agent, AgentStats } from '../api/types';
import { useConfig } from '../app/session';
import { useWorkspace } from '../app/workspace';
import { useDocumentTitle } from '../components/useDocumentTitle';
import { dateTime, usd } from '../components/format';
import { aliasInfo, StandInTag } from '../components/StandInBanner';
import { ErrorState, Loading } from '../components/States';
import { StatusBadge } from '../components/StatusBadge';

/** The Council in the order SPEC §9 names it; a Lord the console does not know goes last. */
const ORDER = ['architect', 'cognition', 'strategos', 'aesthete', 'seer', 'arbiter', 'herald'];
const rank = (key: string) => (ORDER.includes(key) ? ORDER.indexOf(key) : ORDER.length);

/** The Council of Lords: each Lord's domain, flow, model, last run, and this month's runs and spend. */
export function DashboardPage() {
  const { workspace } = useWorkspace();
  useDocumentTitle('Council of Lords', workspace.name);
  const agents = useAgents(workspace.id);
  const from = useMemo(() => monthStartIso(), []);
  const stats = useRunStats(workspace.id, from);
  const byAgent = useMemo(() => new Map((stats.data?.by_agent ?? []).map((s) => [s.agent, s])), [stats.data]);
  const monthName = new Date(from).toLocaleString('en-US', { month: 'long', timeZone: 'UTC' });

  return (
    <div className="page">
      <h1>Council of Lords</h1>
      <p className="lead">
        {workspace.name}: seven Lords research, plan, write and check your marketing.{' '}
        {stats.data && (
          <span>
            {monthName}: {stats.data.total} run{stats.data.total === 1 ? '' : 's'},{' '}
            {usd(stats.data.cost_usd.total)} spent.
          </span>
        )}
      </p>
      {stats.error && <ErrorState error={stats.error} title="This month’s figures did not load" />}
      {agents.isPending ? (
        <Loading label="Loading the Council…" />
      ) : agents.error ? (
        <ErrorState error={agents.error} onRetry={() => void agents.refetch()} />
      ) : agents.data.data.length === 0 ? (
        <Loading label="The Council is being seated in this new workspace…" />
      ) : (
        <div className="lord-grid">
          {[...agents.data.data]
            .sort((a, b) => rank(a.key) - rank(b.key))
            .map((a) => (
              <LordCard key={a.id} agent={a} stats={byAgent.get(a.key)} statsLoading={stats.isPending} />
            ))}
        </div>
      )}
    </div>
  );
}

function LordCard({
  agent,
  stats,
  statsLoading,
}: {
  agent: Agent;
  stats: AgentStats | undefined;
  statsLoading: boolean;
}) {
  const config = useConfig();
  const { workspace } = useWorkspace();
  const headingId = `lord-${agent.key}`;
  const alias = aliasInfo(config, agent.default_model);
  const last = stats?.last_run ?? null;
  return (
    <article className="card lord" aria-labelledby={headingId}>
      <h2 id={headingId}>{agent.name}</h2>
      <p className="lord-domain">{agent.domain}</p>
      <p className="muted small">{agent.description}</p>
      <dl className="facts">
        <div>
          <dt>Default flow</dt>
          <dd>{agent.default_flow}</dd>
        </div>
        <div>
          <dt>Model</dt>
          <dd>
            {agent.default_model}
            {alias && <span className="muted small"> ({alias.model})</span>}
            {alias?.mode === 'local' && (
              <>
                {' '}
                <StandInTag />
              </>
            )}
          </dd>
        </div>
        <div>
          <dt>Last run</dt>
          <dd>
            {statsLoading ? (
              '…'
            ) : last ? (
              <Link to={`/w/${workspace.id}/runs/${last.id}`}>
                <span className="visually-hidden">Last run of {agent.name}: </span>
                <StatusBadge status={last.status} /> {dateTime(last.created_at)}
              </Link>
            ) : (
              'None yet'
            )}
          </dd>
        </div>
        <div>
          <dt>This month</dt>
          <dd>
            {statsLoading
              ? '…'
              : `${stats?.total ?? 0} run${stats?.total === 1 ? '' : 's'} · ${usd(stats?.cost_usd ?? 0)}`}
          </dd>
        </div>
      </dl>
      <p>
        <Link className="button" to={`/w/${workspace.id}/start/${agent.key}`}>
          Start a run with {agent.name}
        </Link>
      </p>
    </article>
  );
}
