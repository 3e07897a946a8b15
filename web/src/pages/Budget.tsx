import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useEffect, useId, useState } from 'react';
import type { FormEvent } from 'react';
import { unwrap } from '../api/client';
import { isApiError } from '../api/errors';
import { keys } from '../api/queries';
import type { Budget } from '../api/types';
import { useApi } from '../app/session';
import { useWorkspace } from '../app/workspace';
import { useDocumentTitle } from '../components/useDocumentTitle';
import { dateTime, usd } from '../components/format';
import { ErrorState, QueryView } from '../components/States';

/** At most six decimals, not negative: the rule PUT /v1/workspaces/:id/budget applies. */
export function checkBudget(text: string): { ok: true; value: number } | { ok: false; message: string } {
  const t = text.trim().replace(/^\$/, '').replace(/,/g, '');
  if (t === '') return { ok: false, message: 'Enter an amount in US dollars, e.g. 250 or 99.50.' };
  if (!/^\d+(\.\d{1,6})?$/.test(t))
    return {
      ok: false,
      message: 'Enter a non-negative amount with at most six decimals, e.g. 250 or 99.50.',
    };
  const value = Number(t);
  if (!Number.isFinite(value)) return { ok: false, message: 'That amount is too large.' };
  return { ok: true, value };
}

/** The monthly budget: everyone sees it; only owners may change it (PUT is owner-only). */
export function BudgetPage() {
  const api = useApi();
  const { workspace, role } = useWorkspace();
  useDocumentTitle('Budget', workspace.name);
  const budget = useQuery({
    queryKey: keys.budget(workspace.id),
    queryFn: () =>
      unwrap(
        api.GET('/v1/workspaces/{workspace_id}/budget', { params: { path: { workspace_id: workspace.id } } }),
      ),
  });
  return (
    <div className="page">
      <h1>Budget</h1>
      <QueryView query={budget} loading="Loading the budget…">
        {(b) => (
          <section className="card" aria-labelledby="budget-current-h">
            <h2 id="budget-current-h">Monthly limit</h2>
            <p className="kpi-value">{usd(b.monthly_budget_usd)}</p>
            <p className="muted small">
              {b.source === 'workspace'
                ? `Set for this workspace${b.updated_at ? ` on ${dateTime(b.updated_at)}` : ''}.`
                : 'The default for every workspace (this workspace has not set its own).'}{' '}
              Model calls that would go over it are refused; alerts fire at 50, 80 and 100 %.
            </p>
            {role === 'owner' ? (
              <BudgetForm current={b} />
            ) : (
              <p className="notice">Only owners can change the budget</p>
            )}
          </section>
        )}
      </QueryView>
    </div>
  );
}

function BudgetForm({ current }: { current: Budget }) {
  const api = useApi();
  const queryClient = useQueryClient();
  const { workspace } = useWorkspace();
  const [text, setText] = useState(String(current.monthly_budget_usd));
  const [problem, setProblem] = useState<string | null>(null);
  const [saved, setSaved] = useState(false);
  const id = useId();
  useEffect(() => setText(String(current.monthly_budget_usd)), [current.monthly_budget_usd]);

  const save = useMutation({
    mutationFn: (monthly_budget_usd: number) =>
      unwrap(
        api.PUT('/v1/workspaces/{workspace_id}/budget', {
          params: { path: { workspace_id: workspace.id } },
          body: { monthly_budget_usd },
        }),
      ),
    onSuccess: (b) => {
      queryClient.setQueryData(keys.budget(workspace.id), b);
      void queryClient.invalidateQueries({ queryKey: [workspace.id, 'cost-summary'] });
      setSaved(true);
    },
    onError: (err) => {
      if (isApiError(err) && err.status === 422) setProblem(err.fields[0]?.message ?? err.message);
    },
  });

  function submit(e: FormEvent) {
    e.preventDefault();
    setSaved(false);
    const checked = checkBudget(text);
    if (!checked.ok) return setProblem(checked.message);
    setProblem(null);
    save.mutate(checked.value);
  }

  return (
    <form className="form" onSubmit={submit} noValidate>
      <div className="field narrow">
        <label htmlFor={id}>Monthly budget (USD)</label>
        <input
          id={id}
          type="text"
          inputMode="decimal"
          autoComplete="off"
          value={text}
          aria-invalid={problem ? true : undefined}
          aria-describedby={problem ? `${id}-err` : `${id}-hint`}
          onChange={(e) => {
            setText(e.target.value);
            setSaved(false);
          }}
        />
        <p id={`${id}-hint`} className="hint">
          US dollars per UTC month, up to six decimals.
        </p>
        {problem && (
          <p id={`${id}-err`} className="field-error">
            {problem}
          </p>
        )}
      </div>
      <div className="form-actions">
        <button type="submit" className="button" disabled={save.isPending}>
          Save budget
        </button>
        {saved && (
          <span className="saved" aria-live="polite">
            Saved.
          </span>
        )}
      </div>
      {save.error && !(isApiError(save.error) && save.error.status === 422) && (
        <ErrorState error={save.error} title="The budget was not saved" />
      )}
    </form>
  );
}
