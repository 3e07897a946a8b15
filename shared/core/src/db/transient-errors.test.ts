import { isTransientDbError } from './transient-errors';

describe('isTransientDbError', () => {
  it.each([
    [{ code: 'ECONNREFUSED' }, true],
    [{ code: '57P01', message: 'terminating connection due to administrator command' }, true],
    [{ code: '08006' }, true],
    [{ name: 'KnexTimeoutError', message: 'Knex: Timeout acquiring a connection' }, true],
    [new Error('Connection terminated unexpectedly'), true],
    [{ code: '23505', message: 'duplicate key value violates unique constraint' }, false],
    [{ code: '23503' }, false],
    [new Error('boom'), false],
    [undefined, false],
  ])('%p → %p', (err, expected) => {
    expect(isTransientDbError(err)).toBe(expected);
  });
});
