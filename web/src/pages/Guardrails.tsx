import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useId, useState } from 'react';
import type { FormEvent } from 'react';
import { unwrap } from '../api/client';
import { isApiError } from '../api/errors';
import { keys } from '../api/queries';
import { roleAtLeast } from '../api/types';
import type { GuardrailRules, Guardrails } from '../api/types';
import { useApi } from '../app/session';
import { useWorkspace } from '../app/workspace';
import { useDocumentTitle } from '../components/useDocumentTitle';
import { dateTime } from '../components/format';
import { ErrorState, QueryView } from '../components/States';

const LISTS: ReadonlyArray<{ key: keyof GuardrailRules; label: string; hint: string }> = [
  {
    key: 'banned_phrases',
    label: 'Banned phrases',
    hint: 'Words the copy must never use, e.g. “guaranteed results”.',
  },
  {
    key: 'banned_claims',
    label: 'Banned claims',
    hint: 'Claims the copy must never make, e.g. “clinically proven”.',
  },
  {
    key: 'required_disclaimers',
    label: 'Required disclaimers',
    hint: 'Sentences every piece of copy must include word for word.',
  },
];

export function linesOf(text: string): string[] {
  return [
    ...new Set(
      text
        .split('\n')
        .map((l) => l.trim())
        .filter(Boolean),
    ),
  ];
}

/** The Arbiter's rules: banned phrases and claims, required disclaimers. Members read; admins edit. */
export function GuardrailsPage() {
  const api = useApi();
  const { workspace, role } = useWorkspace();
  useDocumentTitle('Guardrails', workspace.name);
  const rules = useQuery({
    queryKey: keys.guardrails(workspace.id),
    queryFn: () =>
      unwrap(
        api.GET('/v1/workspaces/{workspace_id}/guardrails', {
          params: { path: { workspace_id: workspace.id } },
        }),
      ),
  });
  return (
    <div className="page">
      <h1>Guardrails</h1>
      <p className="lead">
        The Arbiter checks every piece of copy against these rules, matching case and spacing loosely.
      </p>
      <QueryView query={rules} loading="Loading the rules…">
        {(g) =>
          roleAtLeast(role, 'admin') ? (
            <RulesForm key={g.workspace_id} current={g} />
          ) : (
            <>
              <p className="notice">Only admins and owners can change the guardrails.</p>
              {LISTS.map((l) => (
                <section key={l.key} aria-labelledby={`gr-${l.key}`} className="card">
                  <h2 id={`gr-${l.key}`}>{l.label}</h2>
                  {g.rules[l.key].length === 0 ? (
                    <p className="muted">None.</p>
                  ) : (
                    <ul>
                      {g.rules[l.key].map((r) => (
                        <li key={r}>{r}</li>
                      ))}
                    </ul>
                  )}
                </section>
              ))}
            </>
          )
        }
      </QueryView>
    </div>
  );
}

function RulesForm({ current }: { current: Guardrails }) {
  const api = useApi();
  const queryClient = useQueryClient();
  const { workspace } = useWorkspace();
  const id = useId();
  const [texts, setTexts] = useState<Record<keyof GuardrailRules, string>>({
    banned_phrases: current.rules.banned_phrases.join('\n'),
    banned_claims: current.rules.banned_claims.join('\n'),
    required_disclaimers: current.rules.required_disclaimers.join('\n'),
  });
  const [saved, setSaved] = useState(false);
  const save = useMutation({
    mutationFn: (body: GuardrailRules) =>
      unwrap(
        api.PUT('/v1/workspaces/{workspace_id}/guardrails', {
          params: { path: { workspace_id: workspace.id } },
          body,
        }),
      ),
    onSuccess: (g) => {
      queryClient.setQueryData(keys.guardrails(workspace.id), g);
      setSaved(true);
    },
  });
  const fieldErrors = isApiError(save.error) ? save.error.fields : [];
  function submit(e: FormEvent) {
    e.preventDefault();
    setSaved(false);
    save.mutate({
      banned_phrases: linesOf(texts.banned_phrases),
      banned_claims: linesOf(texts.banned_claims),
      required_disclaimers: linesOf(texts.required_disclaimers),
    });
  }
  return (
    <form className="form card" onSubmit={submit} noValidate>
      {LISTS.map((l) => {
        const problem = fieldErrors.find((f) => f.path.startsWith(`body.${l.key}`));
        return (
          <div key={l.key} className="field">
            <label htmlFor={`${id}-${l.key}`}>{l.label}</label>
            <p id={`${id}-${l.key}-hint`} className="hint">
              {l.hint} One per line.
            </p>
            <textarea
              id={`${id}-${l.key}`}
              rows={5}
              value={texts[l.key]}
              aria-invalid={problem ? true : undefined}
              aria-describedby={`${id}-${l.key}-hint${problem ? ` ${id}-${l.key}-err` : ''}`}
              onChange={(e) => {
                setSaved(false);
                setTexts((t) => ({ ...t, [l.key]: e.target.value }));
              }}
            />
            {problem && (
              <p id={`${id}-${l.key}-err`} className="field-error">
                {problem.path.replace(/^body\./, '')}: {problem.message}
              </p>
            )}
          </div>
        );
      })}
      <div className="form-actions">
        <button type="submit" className="button" disabled={save.isPending}>
          Save guardrails
        </button>
        {saved && <span aria-live="polite">Saved.</span>}
        {current.updated_at && (
          <span className="muted small">Last changed {dateTime(current.updated_at)}</span>
        )}
      </div>
      {save.error && <ErrorState error={save.error} title="The guardrails were not saved" />}
    </form>
  );
}
