import type { Response } from 'express';

/** The response field onResponseFinish sets (request-shape.ts declares it). */
export const FINISH_CALLBACKS = Symbol('raptorflow.finishCallbacks');
type Finishing = Response & { [FINISH_CALLBACKS]?: Array<() => void> };

/**
 * Calls `fn` when the response has been handed to the operating system ('finish'), as res.on('finish', fn)
 * would. The metrics and the request log both watch every response: one listener per response calls them
 * in turn, where two would cost an array of listeners (copied on each emit) per request.
 */
export function onResponseFinish(res: Response, fn: () => void): void {
  const callbacks = (res as Finishing)[FINISH_CALLBACKS];
  if (callbacks) {
    callbacks.push(fn);
    return;
  }
  const fns = [fn];
  (res as Finishing)[FINISH_CALLBACKS] = fns;
  res.on('finish', () => {
    for (const f of fns) f();
  });
}
