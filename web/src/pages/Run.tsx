import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useCallback, useEffect, useMemo, useRef } from 'react';
import { Link, useParams } from 'react-router';
import { unwrap, ws } from '../api/client';
import { keys, useFlows } from '../api/queries';
import { TERMINAL_STATUSES } from '../api/types';
import type { AgentRunDetail, RunStatus, RunStep } from '../api/types';
import { useApi, useConfig } from '../app/session';
import { useWorkspace } from '../app/workspace';
import { useDocumentTitle } from '../components/useDocumentTitle';
import { dateTime, duration, usd } from '../components/format';
import { isStandInModel, StandInTag } from '../components/StandInBanner';
import { TableWrap } from '../components/TableWrap';
import { ErrorState, Loading } from '../components/States';
import { StatusBadge } from '../components/StatusBadge';
import { labelFor } from '../lib/json-schema-form';
import type { JsonSchema } from '../lib/json-schema-form';
import { RunOutput } from './RunOutputs';
import { useRunStream } from './useRunStream';
import type { RunEvent } from './useRunStream';

interface StepView {
  key: string;
  position: number;
  status: 'running' | 'completed' | 'failed';
  cost_usd: number | null;
  model: string | null;
  started_at: string | null;
  completed_at: string | null;
  error: { code: string; message: string } | null;
}

/** The run's steps: what the API has stored, brought up to date by the live events. */
export function mergeSteps(stored: readonly RunStep[], events: readonly RunEvent[]): StepView[] {
  const byKey = new Map<string, StepView>();
  for (const s of stored) byKey.set(s.key, { ...s });
  for (const e of events) {
    if (!e.step || !e.type.startsWith('step.')) continue;
    const old = byKey.get(e.step);
    const base: StepView = old ?? {
      key: e.step,
      position: e.position ?? byKey.size,
      status: 'running',
      cost_usd: null,
      model: null,
      started_at: e.at ?? null,
      completed_at: null,
      error: null,
    };
    if (e.type === 'step.started' && (!old || old.status !== 'completed'))
      byKey.set(e.step, { ...base, status: 'running', error: null });
    else if (e.type === 'step.completed')
      byKey.set(e.step, {
        ...base,
        status: 'completed',
        cost_usd: e.cost_usd ?? base.cost_usd,
        completed_at: e.at ?? base.completed_at,
      });
    else if (e.type === 'step.failed')
      byKey.set(e.step, {
        ...base,
        status: 'failed',
        error: e.error ?? base.error,
        completed_at: e.at ?? null,
      });
  }
  return [...byKey.values()].sort((a, b) => a.position - b.position);
}

/** A run: its live step timeline, status and cost so far, its output by flow, and Cancel while it may. */
export function RunPage() {
  const { runId = '' } = useParams();
  const { workspace } = useWorkspace();
  useDocumentTitle('Run', workspace.name);
  const api = useApi();
  const queryClient = useQueryClient();

  const run = useQuery({
    queryKey: keys.run(workspace.id, runId),
    queryFn: () =>
      unwrap(api.GET('/v1/agent-runs/{id}', { params: { path: { id: runId }, header: ws(workspace.id) } })),
    // A slow look as a safety net under the live stream, while the run is not over.
    refetchInterval: (q) =>
      q.state.data && !TERMINAL_STATUSES.includes(q.state.data.status) ? 5_000 : false,
  });

  // Events bring the stored run up to date, at most every ½ s (steps, costs, and the output at the end).
  const refresh = useRef<ReturnType<typeof setTimeout> | null>(null);
  const scheduleRefresh = useCallback(
    (now = false) => {
      if (refresh.current) clearTimeout(refresh.current);
      refresh.current = setTimeout(
        () => void queryClient.invalidateQueries({ queryKey: keys.run(workspace.id, runId) }),
        now ? 0 : 500,
      );
    },
    [queryClient, workspace.id, runId],
  );
  useEffect(
    () => () => {
      if (refresh.current) clearTimeout(refresh.current);
    },
    [],
  );

  const storedStatus = run.data?.status;
  const live = !!storedStatus && !TERMINAL_STATUSES.includes(storedStatus);
  const stream = useRunStream({
    workspaceId: workspace.id,
    runId,
    enabled: live,
    onEvent: (e) => {
      // Streamed model text changes nothing stored: no reason to read the run again (step.completed will).
      if (e.type === 'step.delta') return;
      const terminal = e.type === 'status' && !!e.status && TERMINAL_STATUSES.includes(e.status);
      if (terminal || e.type !== 'step.started') scheduleRefresh(terminal);
    },
    onEnd: () => scheduleRefresh(true),
  });

  if (run.isPending)
    return (
      <div className="page">
        <h1>Run</h1>
        <Loading label="Loading the run…" />
      </div>
    );
  if (run.error || !run.data)
    return (
      <div className="page">
        <h1>Run</h1>
        <ErrorState error={run.error ?? 'No data'} onRetry={() => void run.refetch()} />
        <p>
          <Link to={`/w/${workspace.id}/runs`}>Back to the list of runs</Link>
        </p>
      </div>
    );
  return (
    <RunView
      run={run.data}
      events={stream.events}
      connection={stream.connection}
      streamError={stream.error}
      onChanged={() => scheduleRefresh(true)}
    />
  );
}

function RunView({
  run,
  events,
  connection,
  streamError,
  onChanged,
}: {
  run: AgentRunDetail;
  events: ReturnType<typeof useRunStream>['events'];
  connection: ReturnType<typeof useRunStream>['connection'];
  streamError: unknown;
  onChanged: () => void;
}) {
  const api = useApi();
  const config = useConfig();
  const { workspace } = useWorkspace();
  const flows = useFlows();
  const inputSchema = flows.data?.data.find((f) => f.name === run.flow)?.input_schema as
    JsonSchema | undefined;
  const inputLabel = (k: string) => inputSchema?.properties?.[k]?.title ?? labelFor(k);

  // The newest word on the status: the live stream's, else the stored run's.
  const lastStatusEvent = [...events].reverse().find((e) => e.type === 'status' && e.status);
  const stored = run.status;
  const status: RunStatus =
    TERMINAL_STATUSES.includes(stored) || !lastStatusEvent?.status ? stored : lastStatusEvent.status;
  const terminal = TERMINAL_STATUSES.includes(status);
  const lastCost = [...events]
    .reverse()
    .find((e) => e.run_cost_usd !== undefined || (e.type === 'status' && e.cost_usd !== undefined));
  const liveCost = lastCost ? (lastCost.run_cost_usd ?? lastCost.cost_usd ?? 0) : 0;
  const costSoFar = Math.max(run.cost_usd, liveCost);
  const steps = useMemo(() => mergeSteps(run.steps, events), [run.steps, events]);
  const standInRun = run.costs.some((c) => c.provider === 'local') || isStandInModel(config, run.model);
  const resumed = events.some((e) => e.type === 'status' && e.resumed);

  const cancel = useMutation({
    mutationFn: () =>
      unwrap(
        api.POST('/v1/agent-runs/{id}/cancel', {
          params: { path: { id: run.id }, header: ws(workspace.id) },
        }),
      ),
    onSuccess: onChanged,
  });
  const agentName = run.agent.charAt(0).toUpperCase() + run.agent.slice(1);

  return (
    <div className="page run-page">
      <p className="breadcrumbs small">
        <Link to={`/w/${workspace.id}/runs`}>All runs</Link>
      </p>
      <h1>Run</h1>
      <p className="lead">
        {agentName} · {run.flow} flow · model {run.model}
        {standInRun && (
          <>
            {' '}
            <StandInTag />
          </>
        )}
      </p>
      <div className="run-summary card">
        <p role="status" aria-live="polite" className="run-status">
          Status: <StatusBadge status={status} />
          {!terminal && connection === 'reconnecting' && (
            <span className="muted small"> (reconnecting…)</span>
          )}
          {resumed && !terminal && <span className="muted small"> (resumed after a restart)</span>}
        </p>
        <p>
          Cost so far: <strong>{usd(costSoFar)}</strong>
          {standInRun && (
            <span className="muted small">
              {' '}
              (stand-in calls are priced like the models they stand in for)
            </span>
          )}
        </p>
        <p className="muted small">
          Started {dateTime(run.started_at ?? run.created_at)}
          {run.duration_ms !== null && ` · took ${duration(run.duration_ms)}`} ·{' '}
          {run.input_tokens + run.output_tokens} tokens
        </p>
        {!terminal && (
          <div className="actions">
            <button
              type="button"
              className="button danger"
              disabled={cancel.isPending || (cancel.data !== undefined && 'cancel_requested' in cancel.data)}
              onClick={() => cancel.mutate()}
            >
              Cancel run
            </button>
            {cancel.data !== undefined && 'cancel_requested' in cancel.data && (
              <span className="muted small"> Stopping at the current model call…</span>
            )}
          </div>
        )}
        {cancel.error && <ErrorState error={cancel.error} title="The run was not cancelled" />}
        {run.error && (
          <div className="state state-error">
            <p className="state-title">The run failed</p>
            <p>
              {run.error.message} <span className="muted small">({run.error.code})</span>
            </p>
          </div>
        )}
        {streamError !== null && <ErrorState error={streamError} title="Live progress stopped" />}
      </div>

      <section>
        <h2>Steps</h2>
        {steps.length === 0 ? (
          <p className="muted">{terminal ? 'No step ran.' : 'Waiting for the first step…'}</p>
        ) : (
          <ol aria-label="Steps" className="timeline">
            {steps.map((s) => (
              <li key={s.key} className={`step step-${s.status}`}>
                <span className="step-key">{s.key}</span> <StatusBadge status={s.status} />
                {s.cost_usd !== null && <span className="small"> {usd(s.cost_usd)}</span>}
                {s.model && <span className="muted small"> · {s.model}</span>}
                {(isStandInModel(config, s.model) || (standInRun && s.model)) && (
                  <>
                    {' '}
                    <StandInTag />
                  </>
                )}
                {s.error && <p className="field-error">{s.error.message}</p>}
              </li>
            ))}
          </ol>
        )}
      </section>

      <section aria-labelledby="output-h">
        <h2 id="output-h">Output</h2>
        {standInRun && run.output && (
          <p className="standin-note">
            <StandInTag /> Written by the offline stand-in: placeholder text, not a real model’s answer.
          </p>
        )}
        {run.output ? (
          <RunOutput flow={run.flow} output={run.output} />
        ) : (
          <p className="muted">
            {terminal ? 'This run produced no output.' : 'The output appears when the run completes.'}
          </p>
        )}
      </section>

      <section aria-labelledby="input-h">
        <h2 id="input-h">Input</h2>
        <dl className="facts">
          {Object.entries(run.input).map(([k, v]) => (
            <div key={k}>
              <dt>{inputLabel(k)}</dt>
              <dd>{typeof v === 'string' ? v : JSON.stringify(v)}</dd>
            </div>
          ))}
        </dl>
      </section>

      <section aria-labelledby="calls-h">
        <h2 id="calls-h">Model calls</h2>
        {run.costs.length === 0 ? (
          <p className="muted">No model call yet.</p>
        ) : (
          <TableWrap label="Model calls table">
            <table>
              <thead>
                <tr>
                  <th scope="col">Provider</th>
                  <th scope="col">Model</th>
                  <th scope="col">Outcome</th>
                  <th scope="col">Tokens in / out</th>
                  <th scope="col">Cost</th>
                </tr>
              </thead>
              <tbody>
                {run.costs.map((c) => (
                  <tr key={c.id}>
                    <td>
                      {c.provider}
                      {c.provider === 'local' && (
                        <>
                          {' '}
                          <StandInTag />
                        </>
                      )}
                    </td>
                    <td>{c.model}</td>
                    <td>{c.outcome}</td>
                    <td>
                      {c.input_tokens} / {c.output_tokens}
                    </td>
                    <td>{usd(c.cost_usd)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </TableWrap>
        )}
      </section>
    </div>
  );
}
