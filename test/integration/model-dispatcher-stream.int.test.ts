import { ModelUnavailableError } from '@raptorflow/core/errors/app-error';
import { dispatchHelpers, fakeProviderEnv, newDispatcher, useFakeProviders } from '../support/llm';
import { openStack } from '../support/stack';

/**
 * A streamed dispatch's retry rule, with the real SDKs against the fakes over real PostgreSQL: a stream that
 * fails before its first piece is retried like any call; one that breaks after it ends the dispatch at once
 * (no retry, no fallback), since the caller has already shown part of that answer.
 */
const stack = openStack();
const fakes = useFakeProviders();
afterAll(() => stack.close());
const { ask, workspace, trail } = dispatchHelpers(stack);
const FLASH = 'gemini-3.8-flash';

it('a stream refused before its first piece is retried; only the answer that came streams', async () => {
  const { ws } = await workspace();
  fakes.gemini.script(FLASH, { status: 503 }, { ok: { text: 'Fresh daily.', chunks: 3 } });
  const { dispatcher } = newDispatcher(stack, fakeProviderEnv(fakes));
  const pieces: string[] = [];
  const r = await dispatcher.dispatch(
    { model: 'fast', messages: ask(), onText: (d) => pieces.push(d) },
    { workspaceId: ws.id },
  );
  expect(r.text).toBe('Fresh daily.');
  expect(pieces.join('')).toBe('Fresh daily.');
  expect(r.attempts).toBe(2);
  expect(fakes.gemini.callCount(FLASH)).toBe(2);
  expect((await trail(ws.id)).costs.map((c) => c.outcome)).toEqual(['success']);
});

it('a stream broken after its first piece fails the dispatch: no retry, no fallback', async () => {
  const { ws } = await workspace();
  fakes.gemini.script(FLASH, { ok: { text: 'Fresh daily bread.', chunks: 4, breakAfterChunks: 2 } });
  const { dispatcher } = newDispatcher(stack, fakeProviderEnv(fakes));
  const pieces: string[] = [];
  const err = await dispatcher
    .dispatch({ model: 'fast', messages: ask(), onText: (d) => pieces.push(d) }, { workspaceId: ws.id })
    .catch((e: unknown) => e);
  expect(err).toBeInstanceOf(ModelUnavailableError);
  expect((err as ModelUnavailableError).details).toMatchObject({ partial: true });
  expect(pieces.length).toBeGreaterThan(0);
  expect(fakes.gemini.callCount(FLASH)).toBe(1);
  // The fast chain's fallback is Claude Haiku: never asked.
  expect(fakes.anthropic.callCount()).toBe(0);
  const t = await trail(ws.id);
  expect(t.costs.map((c) => c.outcome)).toEqual(['failed']);
  expect(t.reservations.map((r) => r.status)).toEqual(['released']);
});
