import { MissingHandlerError, assertHandlersCoverQueue } from './worker-runtime';

const handler = async () => undefined;

function errorOf(fn: () => void): MissingHandlerError {
  let caught: unknown;
  try {
    fn();
  } catch (err) {
    caught = err;
  }
  expect(caught).toBeInstanceOf(MissingHandlerError);
  return caught as MissingHandlerError;
}

describe('assertHandlersCoverQueue', () => {
  it('passes for a complete handler map', () => {
    expect(() => assertHandlersCoverQueue('workspace', { 'workspace.created': handler })).not.toThrow();
    expect(() =>
      assertHandlersCoverQueue('agent', { 'agent.run.requested': handler, 'schedule.tick': handler }),
    ).not.toThrow();
    expect(() =>
      assertHandlersCoverQueue('cost', { 'cost.recorded': handler, 'ledger.reconcile.requested': handler }),
    ).not.toThrow();
    expect(() => assertHandlersCoverQueue('notify', { 'budget.alert.fired': handler })).not.toThrow();
    expect(() => assertHandlersCoverQueue('system', { 'test.event': handler })).not.toThrow();
  });

  it('refuses an empty map and names the missing event and the queue', () => {
    const err = errorOf(() => assertHandlersCoverQueue('workspace', {}));
    expect(err.message).toContain('workspace.created');
    expect(err.message).toContain('"workspace"');
    expect(err).toBeInstanceOf(Error);
  });

  it('refuses a map whose entry is not a function', () => {
    const err = errorOf(() => assertHandlersCoverQueue('cost', { 'cost.recorded': 'not a handler' }));
    expect(err.message).toContain('cost.recorded');
  });

  it('refuses a handler for an event of another queue', () => {
    const err = errorOf(() =>
      assertHandlersCoverQueue('system', { 'test.event': handler, 'workspace.created': handler }),
    );
    expect(err.message).toContain('workspace.created');
    expect(err.message).not.toContain('no handler for');
  });

  it('refuses a handler for an unknown event', () => {
    const err = errorOf(() =>
      assertHandlersCoverQueue('agent', { 'agent.run.requested': handler, 'agent.typo': handler }),
    );
    expect(err.message).toContain('agent.typo');
  });

  it('reports missing and foreign handlers together', () => {
    const err = errorOf(() => assertHandlersCoverQueue('agent', { 'cost.recorded': handler }));
    expect(err.message).toContain('agent.run.requested');
    expect(err.message).toContain('cost.recorded');
  });
});
