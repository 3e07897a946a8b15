import { setTimeout as sleep } from 'node:timers/promises';
import {
  acceptCorrelationId,
  getContext,
  getCorrelationId,
  getCurrentUserId,
  getCurrentWorkspaceId,
  runWithContext,
  setContextUser,
  setContextWorkspace,
  updateContext,
} from './request-context';

const UUID_V4 = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
const USER_A = '11111111-1111-4111-8111-111111111111';
const USER_B = '22222222-2222-4222-8222-222222222222';
const WS_A = 'aaaaaaaa-aaaa-4aaa-8aaa-aaaaaaaaaaaa';
const WS_B = 'bbbbbbbb-bbbb-4bbb-8bbb-bbbbbbbbbbbb';

describe('acceptCorrelationId', () => {
  it.each(['abc', 'req-123_ABC.v2', 'a', 'x'.repeat(128), '0f8fad5b-d9cb-469f-a165-70867728950e'])(
    'keeps a valid id %#',
    (id) => {
      expect(acceptCorrelationId(id)).toBe(id);
    },
  );

  it.each([
    ['129 chars', 'x'.repeat(129)],
    ['empty', ''],
    ['space', 'has space'],
    ['newline (log injection)', 'abc\ninjected=1'],
    ['slash', 'a/b'],
    ['colon', 'a:b'],
    ['unicode', 'héllo'],
    ['html', '<script>'],
  ])('replaces an invalid id (%s) with a fresh UUID', (_label, id) => {
    const out = acceptCorrelationId(id);
    expect(out).not.toBe(id);
    expect(out).toMatch(UUID_V4);
  });

  it.each([undefined, null, 42, ['abc'], { id: 'abc' }])(
    'replaces a non-string (%p) with a UUID',
    (value) => {
      expect(acceptCorrelationId(value)).toMatch(UUID_V4);
    },
  );

  it('makes a different UUID each time', () => {
    expect(acceptCorrelationId(undefined)).not.toBe(acceptCorrelationId(undefined));
  });
});

describe('runWithContext', () => {
  it('has no context outside a run', () => {
    expect(getContext()).toBeUndefined();
    expect(getCorrelationId()).toBeUndefined();
    expect(getCurrentUserId()).toBeUndefined();
    expect(getCurrentWorkspaceId()).toBeUndefined();
  });

  it('exposes the context through the getters and returns the function result', () => {
    const result = runWithContext(
      { correlationId: 'corr-1', userId: USER_A, workspaceId: WS_A, role: 'owner' },
      () => {
        expect(getCorrelationId()).toBe('corr-1');
        expect(getCurrentUserId()).toBe(USER_A);
        expect(getCurrentWorkspaceId()).toBe(WS_A);
        expect(getContext()?.role).toBe('owner');
        return 'done';
      },
    );
    expect(result).toBe('done');
    expect(getContext()).toBeUndefined();
  });

  it('keeps the context, and updates to it, across awaits', async () => {
    await runWithContext({ correlationId: 'corr-await' }, async () => {
      expect(getCurrentUserId()).toBeUndefined();
      await sleep(5);
      updateContext({ userId: USER_A });
      await Promise.resolve();
      expect(getCurrentUserId()).toBe(USER_A);
      await sleep(5);
      updateContext({ workspaceId: WS_A, role: 'member' });
      await new Promise<void>((resolve) => setImmediate(resolve));
      expect(getCorrelationId()).toBe('corr-await');
      expect(getCurrentUserId()).toBe(USER_A);
      expect(getCurrentWorkspaceId()).toBe(WS_A);
      expect(getContext()?.role).toBe('member');
    });
    expect(getContext()).toBeUndefined();
  });

  it('sees updates made inside a nested async function (same store, not a copy)', async () => {
    await runWithContext({ correlationId: 'corr-nested' }, async () => {
      const authenticate = async () => {
        await sleep(1);
        updateContext({ userId: USER_B });
      };
      await authenticate();
      expect(getCurrentUserId()).toBe(USER_B);
    });
  });

  it('setContextUser and setContextWorkspace fill in the current context, and outside a run do nothing', async () => {
    const ctx = { correlationId: 'c' };
    await runWithContext(ctx, async () => {
      setContextUser(USER_A);
      await sleep(1);
      setContextWorkspace(WS_A, 'admin');
      expect(getContext()).toBe(ctx);
      expect(ctx).toEqual({ correlationId: 'c', userId: USER_A, workspaceId: WS_A, role: 'admin' });
    });
    expect(() => setContextUser(USER_B)).not.toThrow();
    expect(() => setContextWorkspace(WS_B, 'owner')).not.toThrow();
    expect(getContext()).toBeUndefined();
  });

  it('updateContext outside a run is a no-op', () => {
    expect(() => updateContext({ userId: USER_A })).not.toThrow();
    expect(getCurrentUserId()).toBeUndefined();
  });

  it('does not leak between parallel contexts', async () => {
    const seen: Record<string, Array<string | undefined>> = { a: [], b: [] };
    const run = (key: 'a' | 'b', userId: string, workspaceId: string, delays: number[]) =>
      runWithContext({ correlationId: `corr-${key}` }, async () => {
        for (const [i, d] of delays.entries()) {
          await sleep(d);
          if (i === 0) updateContext({ userId, workspaceId });
          seen[key]!.push(`${getCorrelationId()}|${getCurrentUserId()}|${getCurrentWorkspaceId()}`);
        }
      });
    // interleave the two runs' steps
    await Promise.all([run('a', USER_A, WS_A, [1, 8, 1, 8]), run('b', USER_B, WS_B, [4, 1, 8, 1])]);
    expect(seen.a).toEqual(Array(4).fill(`corr-a|${USER_A}|${WS_A}`));
    expect(seen.b).toEqual(Array(4).fill(`corr-b|${USER_B}|${WS_B}`));
    expect(getContext()).toBeUndefined();
  });

  it('an inner run shadows the outer one and the outer is restored afterwards', async () => {
    await runWithContext({ correlationId: 'outer', userId: USER_A }, async () => {
      await runWithContext({ correlationId: 'inner', userId: USER_B }, async () => {
        await sleep(1);
        expect(getCorrelationId()).toBe('inner');
        expect(getCurrentUserId()).toBe(USER_B);
      });
      expect(getCorrelationId()).toBe('outer');
      expect(getCurrentUserId()).toBe(USER_A);
    });
  });
});
