import { useInfiniteQuery, useMutation, useQueryClient } from '@tanstack/react-query';
import { useId, useState } from 'react';
import type { FormEvent } from 'react';
import { Link } from 'react-router';
import { unwrap, ws } from '../api/client';
import { isApiError } from '../api/errors';
import { keys, useAgents } from '../api/queries';
import { MEMORY_KINDS, roleAtLeast } from '../api/types';
import type { MemoryItem, MemoryKind, MemorySearchHit, MemorySearchResult } from '../api/types';
import { useApi } from '../app/session';
import { useWorkspace } from '../app/workspace';
import { useDocumentTitle } from '../components/useDocumentTitle';
import { dateTime } from '../components/format';
import { Empty, ErrorState, Loading } from '../components/States';

type LordKey = 'architect' | 'cognition' | 'strategos' | 'aesthete' | 'seer' | 'arbiter' | 'herald';

/** The Council's memory: browse what is believed (now or as of a date), search it, teach it. */
export function MemoryPage() {
  const { workspace: titleWorkspace } = useWorkspace();
  useDocumentTitle('Memory', titleWorkspace.name);
  return (
    <div className="page">
      <h1>Memory</h1>
      <p className="lead">
        What the Council knows: findings and briefs from research, brand rules, decisions. Each item is valid
        until a newer one on the same subject replaces it.
      </p>
      <SearchMemory />
      <AddMemory />
      <BrowseMemory />
    </div>
  );
}

function useLordOptions() {
  const { workspace } = useWorkspace();
  const agents = useAgents(workspace.id);
  return (agents.data?.data ?? []).map((a) => ({ key: a.key as LordKey, name: a.name }));
}

function Validity({ item }: { item: Pick<MemoryItem, 'valid_from' | 'valid_to'> }) {
  return (
    <span>
      valid from {dateTime(item.valid_from)}
      {item.valid_to ? ` until ${dateTime(item.valid_to)}` : ' (current)'}
    </span>
  );
}

function owner(agent: string | null, lords: { key: string; name: string }[]): string {
  if (!agent) return 'Shared by the Council';
  return lords.find((l) => l.key === agent)?.name ?? agent;
}

function SearchMemory() {
  const api = useApi();
  const { workspace } = useWorkspace();
  const lords = useLordOptions();
  const id = useId();
  const [query, setQuery] = useState('');
  const [k, setK] = useState('10');
  const [agent, setAgent] = useState('');
  const [kind, setKind] = useState('');
  const [problem, setProblem] = useState<string | null>(null);
  const search = useMutation({
    mutationFn: () =>
      unwrap(
        api.POST('/v1/memory/search', {
          params: { header: ws(workspace.id) },
          body: {
            query: query.trim(),
            k: Number(k),
            ...(agent ? { agent: agent as LordKey | 'shared' } : {}),
            ...(kind ? { kind: kind as MemoryKind } : {}),
          },
        }),
      ),
  });
  function submit(e: FormEvent) {
    e.preventDefault();
    const n = Number(k);
    if (!query.trim()) return setProblem('Type what you are looking for.');
    if (!Number.isInteger(n) || n < 1 || n > 100) return setProblem('Results: a whole number from 1 to 100.');
    setProblem(null);
    search.mutate();
  }
  return (
    <section aria-labelledby={`${id}-h`} className="card">
      <h2 id={`${id}-h`}>Search</h2>
      <form className="filters" role="search" aria-label="Search the memory" onSubmit={submit} noValidate>
        <div className="field grow">
          <label htmlFor={`${id}-q`}>Search for</label>
          <input
            id={`${id}-q`}
            type="search"
            value={query}
            aria-invalid={problem ? true : undefined}
            aria-describedby={problem ? `${id}-err` : undefined}
            onChange={(e) => setQuery(e.target.value)}
          />
        </div>
        <div className="field">
          <label htmlFor={`${id}-k`}>Results</label>
          <input
            id={`${id}-k`}
            type="number"
            min={1}
            max={100}
            value={k}
            onChange={(e) => setK(e.target.value)}
          />
        </div>
        <div className="field">
          <label htmlFor={`${id}-agent`}>Whose</label>
          <select id={`${id}-agent`} value={agent} onChange={(e) => setAgent(e.target.value)}>
            <option value="">Everyone’s</option>
            <option value="shared">Shared only</option>
            {lords.map((l) => (
              <option key={l.key} value={l.key}>
                {l.name}
              </option>
            ))}
          </select>
        </div>
        <div className="field">
          <label htmlFor={`${id}-kind`}>Kind</label>
          <select id={`${id}-kind`} value={kind} onChange={(e) => setKind(e.target.value)}>
            <option value="">Any kind</option>
            {MEMORY_KINDS.map((m) => (
              <option key={m} value={m}>
                {m}
              </option>
            ))}
          </select>
        </div>
        <div className="form-actions">
          <button type="submit" className="button" disabled={search.isPending}>
            Search memory
          </button>
        </div>
      </form>
      {problem && (
        <p id={`${id}-err`} className="field-error">
          {problem}
        </p>
      )}
      {search.isPending && <Loading label="Searching…" />}
      {search.error && <ErrorState error={search.error} title="The search failed" />}
      {search.data && <SearchResults result={search.data} lords={lords} />}
    </section>
  );
}

function SearchResults({
  result,
  lords,
}: {
  result: MemorySearchResult;
  lords: { key: string; name: string }[];
}) {
  if (result.data.length === 0) return <Empty>Nothing in memory matches.</Empty>;
  return (
    <>
      <p className="muted small">
        {result.data.length} result{result.data.length === 1 ? '' : 's'} · search path {result.path} ·
        embeddings {result.embedding_model}
        {result.embedding_model.startsWith('local') && ' (the offline stand-in)'}
      </p>
      <ol className="memory-hits" aria-label="Search results">
        {result.data.map((h: MemorySearchHit) => (
          <li key={h.id} className="memory-item">
            <p className="memory-meta">
              <span className="tag">{h.kind}</span> <span>{owner(h.agent, lords)}</span>
              {h.subject && <span className="muted"> · {h.subject}</span>}
            </p>
            <p className="memory-content">{h.content}</p>
            <dl className="scores">
              <div>
                <dt>Score</dt>
                <dd>{h.score.toFixed(5)}</dd>
              </div>
              <div>
                <dt>Similarity</dt>
                <dd>{h.similarity === null ? 'not matched' : h.similarity.toFixed(3)}</dd>
              </div>
              <div>
                <dt>Text rank</dt>
                <dd>{h.text_rank === null ? 'no word matched' : h.text_rank.toFixed(3)}</dd>
              </div>
            </dl>
            <p className="muted small">
              <Validity item={h} />
            </p>
          </li>
        ))}
      </ol>
    </>
  );
}

function AddMemory() {
  const api = useApi();
  const queryClient = useQueryClient();
  const { workspace } = useWorkspace();
  const lords = useLordOptions();
  const id = useId();
  const [open, setOpen] = useState(false);
  const [kind, setKind] = useState<MemoryKind>('brand');
  const [agent, setAgent] = useState('');
  const [subject, setSubject] = useState('');
  const [content, setContent] = useState('');
  const [problem, setProblem] = useState<string | null>(null);
  const [saved, setSaved] = useState<string | null>(null);
  const write = useMutation({
    mutationFn: () =>
      unwrap(
        api.POST('/v1/memory', {
          params: { header: ws(workspace.id) },
          body: {
            kind,
            content: content.trim(),
            agent: agent ? (agent as LordKey) : null,
            ...(subject.trim() ? { subject: subject.trim() } : {}),
          },
        }),
      ),
    onSuccess: (item) => {
      setContent('');
      setSubject('');
      setSaved(
        'superseded' in item && item.superseded
          ? 'Saved; it replaces the earlier item on this subject.'
          : 'Saved.',
      );
      void queryClient.invalidateQueries({ queryKey: [workspace.id, 'memory'] });
    },
  });
  function submit(e: FormEvent) {
    e.preventDefault();
    setSaved(null);
    if (!content.trim()) return setProblem('Write what the Council should remember.');
    if (content.trim().length > 8000) return setProblem('At most 8,000 characters.');
    setProblem(null);
    write.mutate();
  }
  const fieldProblem =
    isApiError(write.error) && write.error.status === 422 ? write.error.fields[0] : undefined;
  return (
    <section aria-labelledby={`${id}-h`} className="card">
      <h2 id={`${id}-h`}>Teach the Council</h2>
      {!open ? (
        <button
          type="button"
          className="button secondary"
          aria-expanded={false}
          onClick={() => setOpen(true)}
        >
          Add an item
        </button>
      ) : (
        <form className="form" onSubmit={submit} noValidate>
          <div className="inline-form">
            <div className="field">
              <label htmlFor={`${id}-kind`}>Kind of item</label>
              <select id={`${id}-kind`} value={kind} onChange={(e) => setKind(e.target.value as MemoryKind)}>
                {MEMORY_KINDS.map((m) => (
                  <option key={m} value={m}>
                    {m}
                  </option>
                ))}
              </select>
            </div>
            <div className="field">
              <label htmlFor={`${id}-agent`}>For</label>
              <select id={`${id}-agent`} value={agent} onChange={(e) => setAgent(e.target.value)}>
                <option value="">The whole Council</option>
                {lords.map((l) => (
                  <option key={l.key} value={l.key}>
                    {l.name} only
                  </option>
                ))}
              </select>
            </div>
            <div className="field grow">
              <label htmlFor={`${id}-subject`}>Subject (optional)</label>
              <input
                id={`${id}-subject`}
                type="text"
                maxLength={500}
                value={subject}
                onChange={(e) => setSubject(e.target.value)}
              />
            </div>
          </div>
          <div className="field">
            <span className="field-label">
              <label htmlFor={`${id}-content`}>Content</label>
              <span className="required" aria-hidden="true">
                {' '}
                *
              </span>
            </span>
            <textarea
              id={`${id}-content`}
              rows={4}
              required
              value={content}
              aria-invalid={problem || fieldProblem ? true : undefined}
              aria-describedby={problem || fieldProblem ? `${id}-err` : undefined}
              onChange={(e) => setContent(e.target.value)}
            />
            {(problem || fieldProblem) && (
              <p id={`${id}-err`} className="field-error">
                {problem ?? `${fieldProblem!.path}: ${fieldProblem!.message}`}
              </p>
            )}
          </div>
          <div className="form-actions">
            <button type="submit" className="button" disabled={write.isPending}>
              Save to memory
            </button>
            <button type="button" className="button secondary" onClick={() => setOpen(false)}>
              Close
            </button>
            {saved && <span aria-live="polite">{saved}</span>}
          </div>
          {write.error && !fieldProblem && <ErrorState error={write.error} title="Nothing was saved" />}
        </form>
      )}
    </section>
  );
}

function BrowseMemory() {
  const api = useApi();
  const queryClient = useQueryClient();
  const { workspace, role } = useWorkspace();
  const lords = useLordOptions();
  const id = useId();
  const [agent, setAgent] = useState('');
  const [kind, setKind] = useState('');
  const [asOf, setAsOf] = useState('');
  const [history, setHistory] = useState(false);
  const filters = {
    agent: agent || undefined,
    kind: kind || undefined,
    as_of: asOf || undefined,
    history: history ? 'true' : undefined,
  };
  const items = useInfiniteQuery({
    queryKey: keys.memory(workspace.id, filters),
    initialPageParam: undefined as string | undefined,
    queryFn: ({ pageParam }) =>
      unwrap(
        api.GET('/v1/memory', {
          params: {
            header: ws(workspace.id),
            query: {
              limit: 25,
              ...(pageParam ? { cursor: pageParam } : {}),
              ...(agent ? { agent: agent as LordKey | 'shared' } : {}),
              ...(kind ? { kind: kind as MemoryKind } : {}),
              ...(asOf ? { as_of: new Date(asOf).toISOString() } : {}),
              ...(history ? { history: 'true' as const } : {}),
            },
          },
        }),
      ),
    getNextPageParam: (last) => last.next_cursor ?? undefined,
  });
  const remove = useMutation({
    mutationFn: (itemId: string) =>
      unwrap(api.DELETE('/v1/memory/{id}', { params: { path: { id: itemId }, header: ws(workspace.id) } })),
    onSuccess: () => void queryClient.invalidateQueries({ queryKey: [workspace.id, 'memory'] }),
  });
  const rows = items.data?.pages.flatMap((p) => p.data) ?? [];
  const canDelete = roleAtLeast(role, 'admin');
  return (
    <section aria-labelledby={`${id}-h`} className="card">
      <h2 id={`${id}-h`}>Browse</h2>
      <form className="filters" aria-label="Filter the items" onSubmit={(e) => e.preventDefault()}>
        <div className="field">
          <label htmlFor={`${id}-agent`}>Whose items</label>
          <select id={`${id}-agent`} value={agent} onChange={(e) => setAgent(e.target.value)}>
            <option value="">Everyone’s</option>
            <option value="shared">Shared only</option>
            {lords.map((l) => (
              <option key={l.key} value={l.key}>
                {l.name}
              </option>
            ))}
          </select>
        </div>
        <div className="field">
          <label htmlFor={`${id}-kind`}>Kind filter</label>
          <select id={`${id}-kind`} value={kind} onChange={(e) => setKind(e.target.value)}>
            <option value="">Any kind</option>
            {MEMORY_KINDS.map((m) => (
              <option key={m} value={m}>
                {m}
              </option>
            ))}
          </select>
        </div>
        <div className="field">
          <label htmlFor={`${id}-asof`}>As of</label>
          <input
            id={`${id}-asof`}
            type="datetime-local"
            value={asOf}
            onChange={(e) => setAsOf(e.target.value)}
          />
        </div>
        <div className="field field-checkbox">
          <input
            id={`${id}-history`}
            type="checkbox"
            checked={history}
            onChange={(e) => setHistory(e.target.checked)}
          />
          <label htmlFor={`${id}-history`}>Include replaced versions</label>
        </div>
      </form>
      {items.isPending ? (
        <Loading label="Loading the memory…" />
      ) : items.error ? (
        <ErrorState error={items.error} onRetry={() => void items.refetch()} />
      ) : rows.length === 0 ? (
        <Empty>
          Nothing in memory
          {Object.values(filters).some(Boolean)
            ? ' matches these filters'
            : ' yet: research runs and items you add appear here'}
          .
        </Empty>
      ) : (
        <ul className="memory-list" aria-label="Memory items">
          {rows.map((m) => (
            <li key={m.id} className="memory-item">
              <p className="memory-meta">
                <span className="tag">{m.kind}</span> <span>{owner(m.agent, lords)}</span>
                {m.subject && <span className="muted"> · {m.subject}</span>}
              </p>
              <p className="memory-content">{m.content}</p>
              <p className="muted small">
                <Validity item={m} />
                {m.source_run_id && (
                  <>
                    {' '}
                    · from <Link to={`/w/${workspace.id}/runs/${m.source_run_id}`}>a run</Link>
                  </>
                )}
                {m.embedding_model.startsWith('local') && ' · embedded by the stand-in'}
              </p>
              {canDelete && (
                <button
                  type="button"
                  className="button secondary small-button"
                  aria-label={`Delete ${m.kind} item ${m.subject ?? m.content.slice(0, 40)}`}
                  disabled={remove.isPending}
                  onClick={() => remove.mutate(m.id)}
                >
                  Delete
                </button>
              )}
            </li>
          ))}
        </ul>
      )}
      {remove.error && <ErrorState error={remove.error} title="The item was not deleted" />}
      {items.hasNextPage && (
        <button
          type="button"
          className="button secondary"
          disabled={items.isFetchingNextPage}
          onClick={() => void items.fetchNextPage()}
        >
          {items.isFetchingNextPage ? 'Loading…' : 'Load more'}
        </button>
      )}
    </section>
  );
}
