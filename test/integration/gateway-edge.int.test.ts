import { parseSettings } from '@raptorflow/core/config/settings';
import { newUser } from '../support/factories';
import { useGateway } from '../support/gateway';
import { openStack } from '../support/stack';

const stack = openStack();
const gateway = useGateway(stack, () =>
  parseSettings({
    ...process.env,
    CORS_ORIGINS: 'https://app.raptorflow.test, https://admin.raptorflow.test',
  }),
);
let url: string;
beforeAll(async () => {
  url = gateway.url();
});

it('sends helmet security headers and a deny-all CSP on API responses', async () => {
  const res = await fetch(`${url}/health/live`);
  expect(res.headers.get('content-security-policy')).toBe("default-src 'none';frame-ancestors 'none'");
  expect(res.headers.get('x-content-type-options')).toBe('nosniff');
  expect(res.headers.get('strict-transport-security')).toMatch(/max-age=\d+/);
  expect(res.headers.get('x-frame-options')).toBe('SAMEORIGIN');
  expect(res.headers.get('x-powered-by')).toBeNull();
  expect(res.headers.get('etag')).toBeNull();
});

it('answers CORS only for allow-listed origins, preflight included', async () => {
  const user = await newUser();
  const preflight = await fetch(`${url}/v1/workspaces`, {
    method: 'OPTIONS',
    headers: {
      origin: 'https://app.raptorflow.test',
      'access-control-request-method': 'POST',
      'access-control-request-headers': 'authorization, content-type, x-workspace-id',
    },
  });
  expect(preflight.status).toBe(204);
  expect(preflight.headers.get('access-control-allow-origin')).toBe('https://app.raptorflow.test');
  expect(preflight.headers.get('access-control-allow-headers')).toMatch(/X-Workspace-Id/i);
  const allowed = await fetch(`${url}/v1/workspaces`, {
    headers: { origin: 'https://admin.raptorflow.test', authorization: `Bearer ${user.token}` },
  });
  expect(allowed.status).toBe(200);
  expect(allowed.headers.get('access-control-allow-origin')).toBe('https://admin.raptorflow.test');
  expect(allowed.headers.get('access-control-expose-headers')).toMatch(/X-Correlation-Id/);
  const foreign = await fetch(`${url}/v1/workspaces`, {
    headers: { origin: 'https://evil.test', authorization: `Bearer ${user.token}` },
  });
  expect(foreign.headers.get('access-control-allow-origin')).toBeNull();
  expect(foreign.headers.get('vary')).toMatch(/Origin/);
});
