import { EventEmitter } from 'node:events';
import type { Response } from 'express';
import { onResponseFinish } from './response-finish';

describe('onResponseFinish', () => {
  it('calls every callback once, in order, from a single finish listener', () => {
    const res = new EventEmitter() as unknown as Response;
    const seen: string[] = [];
    onResponseFinish(res, () => seen.push('metrics'));
    onResponseFinish(res, () => seen.push('log'));
    expect((res as unknown as EventEmitter).listenerCount('finish')).toBe(1);
    expect(seen).toEqual([]);
    (res as unknown as EventEmitter).emit('finish');
    expect(seen).toEqual(['metrics', 'log']);
  });
});
