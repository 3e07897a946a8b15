import { useInfiniteQuery } from '@tanstack/react-query';
import { useId, useState } from 'react';
import type { FormEvent } from 'react';
import { useSearchParams } from 'react-router';
import { unwrap, ws } from '../api/client';
import { keys } from '../api/queries';
import { roleAtLeast } from '../api/types';
import type { AuditLog } from '../api/types';
import { useApi } from '../app/session';
import { useWorkspace } from '../app/workspace';
import { useDocumentTitle } from '../components/useDocumentTitle';
import { dateTime } from '../components/format';
import { Empty, ErrorState, Loading } from '../components/States';
import { dayEndExclusive, dayStart } from '../lib/dates';

const TEXT_FILTERS = [
  { key: 'action', label: 'Action', placeholder: 'e.g. budget.updated' },
  { key: 'actor_id', label: 'Actor id', placeholder: '' },
  { key: 'resource_type', label: 'Resource type', placeholder: 'e.g. workspace' },
  { key: 'resource_id', label: 'Resource id', placeholder: '' },
  { key: 'tool_name', label: 'Tool', placeholder: 'e.g. model_dispatch' },
  { key: 'correlation_id', label: 'Correlation id', placeholder: '' },
] as const;
const ACTOR_TYPES = ['user', 'agent', 'system', 'service'] as const;
const ALL_KEYS = [...TEXT_FILTERS.map((f) => f.key), 'actor_type', 'from', 'to'] as const;

/** Who did what, newest first, with filters (admins and owners). */
export function AuditLogPage() {
  const { workspace, role } = useWorkspace();
  useDocumentTitle('Audit log', workspace.name);
  if (!roleAtLeast(role, 'admin'))
    return (
      <div className="page">
        <h1>Audit log</h1>
        <p className="notice">Only admins and owners can read the audit log.</p>
      </div>
    );
  return <AuditLogView />;
}

function AuditLogView() {
  const api = useApi();
  const { workspace } = useWorkspace();
  const [params, setParams] = useSearchParams();
  const applied: Record<string, string | undefined> = Object.fromEntries(
    ALL_KEYS.map((k) => [k, params.get(k) || undefined]),
  );
  const [draft, setDraft] = useState<Record<string, string>>(() =>
    Object.fromEntries(ALL_KEYS.map((k) => [k, params.get(k) ?? ''])),
  );
  const id = useId();

  const logs = useInfiniteQuery({
    queryKey: keys.audit(workspace.id, applied),
    initialPageParam: undefined as string | undefined,
    queryFn: ({ pageParam }) => {
      const { from, to, actor_type, ...text } = applied;
      const query = {
        limit: 50,
        ...(pageParam ? { cursor: pageParam } : {}),
        ...Object.fromEntries(Object.entries(text).filter(([, v]) => v)),
        ...(actor_type ? { actor_type: actor_type as (typeof ACTOR_TYPES)[number] } : {}),
        ...(from ? { from: dayStart(from) } : {}),
        ...(to ? { to: dayEndExclusive(to) } : {}),
      };
      return unwrap(api.GET('/v1/audit-logs', { params: { header: ws(workspace.id), query } }));
    },
    getNextPageParam: (last) => last.next_cursor ?? undefined,
  });

  function apply(e: FormEvent) {
    e.preventDefault();
    const next = new URLSearchParams();
    for (const [k, v] of Object.entries(draft)) if (v.trim()) next.set(k, v.trim());
    setParams(next, { replace: true });
  }
  function clear() {
    setDraft(Object.fromEntries(ALL_KEYS.map((k) => [k, ''])));
    setParams(new URLSearchParams(), { replace: true });
  }
  const rows = logs.data?.pages.flatMap((p) => p.data) ?? [];
  const filtered = Object.values(applied).some(Boolean);

  return (
    <div className="page">
      <h1>Audit log</h1>
      <form className="filters" role="search" aria-label="Filter the entries" onSubmit={apply}>
        {TEXT_FILTERS.map((f) => (
          <div key={f.key} className="field">
            <label htmlFor={`${id}-${f.key}`}>{f.label}</label>
            <input
              id={`${id}-${f.key}`}
              type="text"
              value={draft[f.key] ?? ''}
              placeholder={f.placeholder}
              onChange={(e) => setDraft((d) => ({ ...d, [f.key]: e.target.value }))}
            />
          </div>
        ))}
        <div className="field">
          <label htmlFor={`${id}-actor_type`}>Actor type</label>
          <select
            id={`${id}-actor_type`}
            value={draft.actor_type ?? ''}
            onChange={(e) => setDraft((d) => ({ ...d, actor_type: e.target.value }))}
          >
            <option value="">Any</option>
            {ACTOR_TYPES.map((t) => (
              <option key={t} value={t}>
                {t}
              </option>
            ))}
          </select>
        </div>
        <div className="field">
          <label htmlFor={`${id}-from`}>From</label>
          <input
            id={`${id}-from`}
            type="date"
            value={draft.from ?? ''}
            onChange={(e) => setDraft((d) => ({ ...d, from: e.target.value }))}
          />
        </div>
        <div className="field">
          <label htmlFor={`${id}-to`}>To</label>
          <input
            id={`${id}-to`}
            type="date"
            value={draft.to ?? ''}
            onChange={(e) => setDraft((d) => ({ ...d, to: e.target.value }))}
          />
        </div>
        <div className="form-actions">
          <button type="submit" className="button">
            Apply filters
          </button>
          {filtered && (
            <button type="button" className="button secondary" onClick={clear}>
              Clear filters
            </button>
          )}
        </div>
      </form>
      {logs.isPending ? (
        <Loading label="Loading the audit log…" />
      ) : logs.error ? (
        <ErrorState error={logs.error} onRetry={() => void logs.refetch()} />
      ) : rows.length === 0 ? (
        <Empty>{filtered ? 'No entry matches these filters.' : 'Nothing has been recorded yet.'}</Empty>
      ) : (
        <ul className="audit-list">
          {rows.map((r) => (
            <AuditRow key={r.id} row={r} />
          ))}
        </ul>
      )}
      {logs.hasNextPage && (
        <button
          type="button"
          className="button secondary"
          disabled={logs.isFetchingNextPage}
          onClick={() => void logs.fetchNextPage()}
        >
          {logs.isFetchingNextPage ? 'Loading…' : 'Load more'}
        </button>
      )}
    </div>
  );
}

function AuditRow({ row }: { row: AuditLog }) {
  const detail = { input: row.input, output: row.output, metadata: row.metadata };
  return (
    <li className="audit-row">
      <p>
        <strong>{row.action}</strong>
        {row.tool_name && <span className="tag">{row.tool_name}</span>}{' '}
        <span className="muted small">{dateTime(row.created_at)}</span>
      </p>
      <p className="small">
        by {row.actor_type}
        {row.actor_id && (
          <>
            {' '}
            <code>{row.actor_id}</code>
          </>
        )}
        {row.resource_type && (
          <>
            {' '}
            on {row.resource_type}
            {row.resource_id && (
              <>
                {' '}
                <code>{row.resource_id}</code>
              </>
            )}
          </>
        )}
        {row.correlation_id && (
          <>
            {' '}
            · correlation id <code>{row.correlation_id}</code>
          </>
        )}
      </p>
      <details>
        <summary>Details of {row.action}</summary>
        <pre className="json">{JSON.stringify(detail, null, 2)}</pre>
      </details>
    </li>
  );
}
