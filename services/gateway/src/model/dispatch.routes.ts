import { dispatchResultView } from '@raptorflow/llm/model-dispatcher.service';
import type { ModelDispatcher } from '@raptorflow/llm/model-dispatcher.service';
import { endpointFactory } from '../http/endpoint';
import { dispatchBody, dispatchResult } from './dispatch.schemas';

export interface DispatchRoutesDeps {
  dispatcher: ModelDispatcher;
}

const DispatchResult = dispatchResult.meta({ id: 'DispatchResult' });
const define = endpointFactory<DispatchRoutesDeps>();

export const dispatchEndpoints = [
  define({
    method: 'post',
    path: '/v1/model/dispatch',
    role: 'member',
    tags: ['model'],
    summary: 'One model call through the ModelDispatcher, admitted against the workspace budget',
    body: dispatchBody,
    bodyExample: {
      model: 'fast',
      messages: [{ role: 'user', content: 'Three taglines for a bakery' }],
      system: 'You write short, warm copy.',
      max_tokens: 64,
    },
    responses: { 200: { schema: DispatchResult, description: 'The answer, its usage and its exact cost' } },
    errors: [402, 502, 504],
    handler: async ({ req, res, body }, { dispatcher }) => {
      // A client that hangs up stops the provider call: nobody would read the answer it pays for.
      const abort = new AbortController();
      res.on('close', () => {
        if (!res.writableFinished) abort.abort();
      });
      const r = await dispatcher.dispatch(
        { model: body.model, messages: body.messages, system: body.system, maxTokens: body.max_tokens },
        { workspaceId: req.workspace!.id, actorUserId: req.auth!.userId, signal: abort.signal },
      );
      res.json(dispatchResultView(r));
    },
  }),
];
