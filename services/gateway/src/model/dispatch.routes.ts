import { Router } from 'express';
import { dispatchResultView } from '@raptorflow/llm/model-dispatcher.service';
import { parseOrThrow } from '@raptorflow/core/errors/zod-errors';
import type { ModelDispatcher } from '@raptorflow/llm/model-dispatcher.service';
import type { WorkspaceGuards } from '../workspaces/workspace-access.guard';
import { dispatchBody } from './dispatch.schemas';

/** Mounted at /v1/model. One model call through the ModelDispatcher, on the caller's workspace budget. */
export function dispatchRouter(deps: { dispatcher: ModelDispatcher; guards: WorkspaceGuards }): Router {
  const router = Router();
  router.post('/dispatch', deps.guards.requireWorkspaceMember(), async (req, res) => {
    const body = parseOrThrow(dispatchBody, req.body ?? {}, 'body');
    // A client that hangs up stops the provider call: nobody would read the answer it pays for.
    const abort = new AbortController();
    res.on('close', () => {
      if (!res.writableFinished) abort.abort();
    });
    const r = await deps.dispatcher.dispatch(
      { model: body.model, messages: body.messages, system: body.system, maxTokens: body.max_tokens },
      { workspaceId: req.workspace!.id, actorUserId: req.auth!.userId, signal: abort.signal },
    );
    res.json(dispatchResultView(r));
  });
  return router;
}
