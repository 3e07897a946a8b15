import { useInfiniteQuery } from '@tanstack/react-query';
import { useId } from 'react';
import { Link, useSearchParams } from 'react-router';
import { unwrap, ws } from '../api/client';
import { keys, useAgents } from '../api/queries';
import { RUN_STATUSES } from '../api/types';
import type { RunStatus } from '../api/types';
import { useApi } from '../app/session';
import { useWorkspace } from '../app/workspace';
import { useDocumentTitle } from '../components/useDocumentTitle';
import { dateTime, duration, shortId, usd } from '../components/format';
import { TableWrap } from '../components/TableWrap';
import { Empty, ErrorState, Loading } from '../components/States';
import { StatusBadge } from '../components/StatusBadge';
import { dayEndExclusive, dayStart } from '../lib/dates';

/** Run history, newest first, filtered by status, Lord and creation date (kept in the address). */
export function RunsPage() {
  const api = useApi();
  const { workspace } = useWorkspace();
  useDocumentTitle('Runs', workspace.name);
  const agents = useAgents(workspace.id);
  const [params, setParams] = useSearchParams();
  const filters = {
    status: params.get('status') || undefined,
    agent: params.get('agent') || undefined,
    from: params.get('from') || undefined,
    to: params.get('to') || undefined,
  };
  const ids = { status: useId(), agent: useId(), from: useId(), to: useId() };
  const badRange = !!filters.from && !!filters.to && filters.from > filters.to;

  const runs = useInfiniteQuery({
    queryKey: keys.runs(workspace.id, filters),
    enabled: !badRange,
    initialPageParam: undefined as string | undefined,
    queryFn: ({ pageParam }) =>
      unwrap(
        api.GET('/v1/agent-runs', {
          params: {
            header: ws(workspace.id),
            query: {
              limit: 25,
              ...(pageParam ? { cursor: pageParam } : {}),
              ...(filters.status ? { status: filters.status as RunStatus } : {}),
              ...(filters.agent ? { agent: filters.agent } : {}),
              ...(filters.from ? { from: dayStart(filters.from) } : {}),
              ...(filters.to ? { to: dayEndExclusive(filters.to) } : {}),
            },
          },
        }),
      ),
    getNextPageParam: (last) => last.next_cursor ?? undefined,
  });

  function set(name: string, value: string) {
    const next = new URLSearchParams(params);
    if (value) next.set(name, value);
    else next.delete(name);
    setParams(next, { replace: true });
  }

  const rows = runs.data?.pages.flatMap((p) => p.data) ?? [];
  const names = new Map((agents.data?.data ?? []).map((a) => [a.key, a.name]));
  const filtered = Object.values(filters).some(Boolean);

  return (
    <div className="page">
      <h1>Runs</h1>
      <form
        className="filters"
        role="search"
        aria-label="Filter the list"
        onSubmit={(e) => e.preventDefault()}
      >
        <div className="field">
          <label htmlFor={ids.status}>Status</label>
          <select
            id={ids.status}
            value={filters.status ?? ''}
            onChange={(e) => set('status', e.target.value)}
          >
            <option value="">Any status</option>
            {RUN_STATUSES.map((s) => (
              <option key={s} value={s}>
                {s}
              </option>
            ))}
          </select>
        </div>
        <div className="field">
          <label htmlFor={ids.agent}>Lord</label>
          <select id={ids.agent} value={filters.agent ?? ''} onChange={(e) => set('agent', e.target.value)}>
            <option value="">Any Lord</option>
            {(agents.data?.data ?? []).map((a) => (
              <option key={a.key} value={a.key}>
                {a.name}
              </option>
            ))}
          </select>
        </div>
        <div className="field">
          <label htmlFor={ids.from}>From</label>
          <input
            id={ids.from}
            type="date"
            value={filters.from ?? ''}
            onChange={(e) => set('from', e.target.value)}
          />
        </div>
        <div className="field">
          <label htmlFor={ids.to}>To</label>
          <input
            id={ids.to}
            type="date"
            value={filters.to ?? ''}
            onChange={(e) => set('to', e.target.value)}
          />
        </div>
        {filtered && (
          <button
            type="button"
            className="button secondary"
            onClick={() => setParams(new URLSearchParams(), { replace: true })}
          >
            Clear filters
          </button>
        )}
      </form>
      {badRange && <p className="field-error">“From” is after “To”: no run can match.</p>}
      {runs.isPending && !badRange ? (
        <Loading label="Loading the history…" />
      ) : runs.error ? (
        <ErrorState error={runs.error} onRetry={() => void runs.refetch()} />
      ) : rows.length === 0 ? (
        <Empty>
          {filtered ? 'No run matches these filters.' : 'No run yet. Start one from the Council’s dashboard.'}{' '}
          <Link to={`/w/${workspace.id}/start`}>Start a run</Link>
        </Empty>
      ) : (
        <TableWrap label="Run list">
          <table>
            <caption className="visually-hidden">Newest first</caption>
            <thead>
              <tr>
                <th scope="col">Created</th>
                <th scope="col">Lord</th>
                <th scope="col">Flow</th>
                <th scope="col">Status</th>
                <th scope="col">Cost</th>
                <th scope="col">Duration</th>
                <th scope="col">
                  <span className="visually-hidden">Open</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {rows.map((r) => (
                <tr key={r.id}>
                  <td>{dateTime(r.created_at)}</td>
                  <td>{names.get(r.agent) ?? r.agent}</td>
                  <td>{r.flow}</td>
                  <td>
                    <StatusBadge status={r.status} />
                  </td>
                  <td>{usd(r.cost_usd)}</td>
                  <td>{duration(r.duration_ms)}</td>
                  <td>
                    <Link
                      to={`/w/${workspace.id}/runs/${r.id}`}
                      aria-label={`Open run ${shortId(r.id)} of ${names.get(r.agent) ?? r.agent}`}
                    >
                      Open
                    </Link>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </TableWrap>
      )}
      {runs.hasNextPage && (
        <button
          type="button"
          className="button secondary"
          disabled={runs.isFetchingNextPage}
          onClick={() => void runs.fetchNextPage()}
        >
          {runs.isFetchingNextPage ? 'Loading…' : 'Load more'}
        </button>
      )}
    </div>
  );
}
