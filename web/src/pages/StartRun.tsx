import { useMutation, useQueryClient } from '@tanstack/react-query';
import { useId, useState } from 'react';
import { Link, useNavigate, useParams } from 'react-router';
import { unwrap, ws } from '../api/client';
import { isApiError } from '../api/errors';
import { useAgents, useFlows } from '../api/queries';
import { useConfig } from '../app/session';
import { useApi } from '../app/session';
import { useWorkspace } from '../app/workspace';
import { useDocumentTitle } from '../components/useDocumentTitle';
import { SchemaForm } from '../components/SchemaForm';
import { ErrorState, Loading } from '../components/States';
import { serverFieldErrors, fieldsFromSchema } from '../lib/json-schema-form';
import type { FieldErrors, JsonSchema } from '../lib/json-schema-form';

/** Start a run: the Lord's flow's input as a form generated from its JSON Schema (GET /v1/flows). */
export function StartRunPage() {
  const { agent: agentKey } = useParams();
  const { workspace } = useWorkspace();
  useDocumentTitle('Start a run', workspace.name);
  const agents = useAgents(workspace.id);
  const flows = useFlows();
  const navigate = useNavigate();
  const chooserId = useId();

  const agent = agents.data?.data.find((a) => a.key === agentKey);
  const flow = flows.data?.data.find((f) => (agent ? f.name === agent.default_flow : false));

  let body: React.ReactNode;
  if (agents.isPending || flows.isPending) body = <Loading />;
  else if (agents.error || flows.error)
    body = (
      <ErrorState
        error={agents.error ?? flows.error}
        onRetry={() => {
          void agents.refetch();
          void flows.refetch();
        }}
      />
    );
  else if (!agentKey) body = null;
  else if (!agent)
    body = (
      <p>
        There is no Lord “{agentKey}” in this workspace.{' '}
        <Link to={`/w/${workspace.id}/dashboard`}>See the Council</Link>.
      </p>
    );
  else if (!flow)
    body = <ErrorState error={`The ${agent.default_flow} flow is not offered by this gateway.`} />;
  else
    body = (
      <RunForm
        key={agent.key}
        agentKey={agent.key}
        agentName={agent.name}
        flowName={flow.name}
        flowDescription={flow.description}
        schema={flow.input_schema as JsonSchema}
        defaultModel={agent.default_model}
      />
    );

  return (
    <div className="page">
      <h1>Start a run</h1>
      {agents.data && agents.data.data.length > 0 && (
        <div className="field narrow">
          <label htmlFor={chooserId}>Lord</label>
          <select
            id={chooserId}
            value={agentKey ?? ''}
            onChange={(e) => navigate(`/w/${workspace.id}/start/${e.target.value}`)}
          >
            {!agentKey && <option value="">Choose a Lord…</option>}
            {agents.data.data.map((a) => (
              <option key={a.key} value={a.key}>
                {a.name} — {a.default_flow}
              </option>
            ))}
          </select>
        </div>
      )}
      {body}
    </div>
  );
}

function RunForm({
  agentKey,
  agentName,
  flowName,
  flowDescription,
  schema,
  defaultModel,
}: {
  agentKey: string;
  agentName: string;
  flowName: string;
  flowDescription: string;
  schema: JsonSchema;
  defaultModel: string;
}) {
  const api = useApi();
  const config = useConfig();
  const { workspace } = useWorkspace();
  const navigate = useNavigate();
  const queryClient = useQueryClient();
  const modelId = useId();
  const [model, setModel] = useState('');
  const [serverErrors, setServerErrors] = useState<FieldErrors | undefined>();
  const [otherProblems, setOtherProblems] = useState<string[]>([]);
  const chatAliases = config.models.aliases.filter((a) => a.alias !== 'embed');

  const start = useMutation({
    mutationFn: (input: Record<string, unknown>) =>
      unwrap(
        api.POST('/v1/agent-runs', {
          params: { header: ws(workspace.id) },
          // The flow's own schema checks `input` on the server too; the form was generated from it.
          body: { agent: agentKey, input: input as never, ...(model ? { model } : {}) },
        }),
      ),
    onSuccess: (run) => {
      void queryClient.invalidateQueries({ queryKey: [workspace.id, 'runs'] });
      void queryClient.invalidateQueries({ queryKey: [workspace.id, 'run-stats'] });
      navigate(`/w/${workspace.id}/runs/${run.id}`);
    },
    onError: (err) => {
      if (isApiError(err) && err.status === 422) {
        const { byField, other } = serverFieldErrors(err.fields, fieldsFromSchema(schema));
        setServerErrors(byField);
        setOtherProblems(other);
      } else {
        setServerErrors(undefined);
        setOtherProblems([]);
      }
    },
  });

  const refused = isApiError(start.error) && start.error.status === 422;
  const title = !refused
    ? 'The run was not started'
    : otherProblems.length > 0
      ? `The run was refused: ${otherProblems.join('; ')}`
      : 'The run was refused: check the fields marked above';
  return (
    <section aria-labelledby={`${modelId}-h`} className="card">
      <h2 id={`${modelId}-h`}>
        {agentName} · {flowName}
      </h2>
      <p className="muted">{flowDescription}</p>
      <SchemaForm
        schema={schema}
        submitLabel="Start run"
        submitting={start.isPending}
        onSubmit={(input) => {
          setServerErrors(undefined);
          setOtherProblems([]);
          start.mutate(input);
        }}
        {...(serverErrors ? { serverErrors } : {})}
      >
        <div className="field">
          <label htmlFor={modelId}>Model</label>
          <select id={modelId} value={model} onChange={(e) => setModel(e.target.value)}>
            <option value="">{`${agentName}’s default (${defaultModel})`}</option>
            {chatAliases.map((a) => (
              <option key={a.alias} value={a.alias}>
                {a.alias} — {a.model}
                {a.mode === 'local' ? ' (stand-in)' : ''}
              </option>
            ))}
          </select>
        </div>
      </SchemaForm>
      {start.error && <ErrorState error={start.error} title={title} />}
    </section>
  );
}
