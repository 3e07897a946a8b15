import { metricsAccess } from './metrics-access';

describe('who may read /metrics', () => {
  const token = 'metrics-token-0123456789';

  it('development without a token: anyone (local tooling)', () => {
    expect(metricsAccess({ token: undefined, isProduction: false, publicPort: true }, undefined)).toBe('ok');
  });

  it('production without a token: not on the public port (404), only on internal worker ports', () => {
    expect(metricsAccess({ token: undefined, isProduction: true, publicPort: true }, undefined)).toBe(404);
    expect(metricsAccess({ token: undefined, isProduction: true, publicPort: false }, undefined)).toBe('ok');
  });

  it('with a token: only the exact bearer, anywhere', () => {
    for (const isProduction of [true, false]) {
      const opts = { token, isProduction, publicPort: true };
      expect(metricsAccess(opts, `Bearer ${token}`)).toBe('ok');
      expect(metricsAccess(opts, `bearer ${token}`)).toBe('ok');
      expect(metricsAccess(opts, undefined)).toBe(401);
      expect(metricsAccess(opts, `Bearer ${token.slice(0, -1)}`)).toBe(401);
      expect(metricsAccess(opts, `Bearer ${token}x`)).toBe(401);
      expect(metricsAccess(opts, `Basic ${token}`)).toBe(401);
    }
  });
});
