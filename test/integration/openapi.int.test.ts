import { z } from 'zod';
import { openApiPath } from '../../services/gateway/src/http/endpoint';
import { GATEWAY_ENDPOINTS } from '../../services/gateway/src/http/endpoints.registry';
import { errorStatuses } from '../../services/gateway/src/openapi/openapi.document';
import { useGateway } from '../support/gateway';
import { client } from '../support/http';
import { checkResponse, endpointFor } from '../support/response-check';
import { openStack } from '../support/stack';

const stack = openStack();
const gateway = useGateway(stack);
let url: string;
beforeAll(() => {
  url = gateway.url();
});

it('serves an OpenAPI 3.1 document generated from the request schemas', async () => {
  const res = await client(url).get('/openapi.json');
  expect(res.status).toBe(200);
  const doc = res.body;
  expect(doc.openapi).toBe('3.1.0');
  expect(doc.components.securitySchemes.bearerAuth).toMatchObject({ type: 'http', scheme: 'bearer' });
  // The document and the endpoint registry name the same operations, both ways.
  const documented = Object.entries(doc.paths as Record<string, Record<string, unknown>>).flatMap(
    ([path, ops]) => Object.keys(ops).map((method) => `${method} ${path}`),
  );
  const declared = GATEWAY_ENDPOINTS.map((e) => `${e.method} ${openApiPath(e.path)}`);
  expect(documented.sort()).toEqual(declared.sort());
  expect(declared.length).toBeGreaterThanOrEqual(33);
  for (const e of GATEWAY_ENDPOINTS) {
    const op = doc.paths[openApiPath(e.path)][e.method];
    // Every declared success and every error the role implies, each with a description.
    const statuses = [...Object.keys(e.responses), ...errorStatuses(e).map(String)];
    expect(Object.keys(op.responses).sort()).toEqual([...new Set(statuses)].sort());
    for (const status of statuses) expect(op.responses[status].description).toEqual(expect.any(String));
    // Under /v1 every route is signed-in, but for the console's two that come before sign-in (role none).
    if (e.path.startsWith('/v1/') && e.role !== 'none') {
      expect(op.responses['401']).toBeDefined();
      expect(op.responses['422']).toBeDefined();
      expect(op.security).toEqual([{ bearerAuth: [] }]);
    }
    if (e.role === 'none') expect(op.security).toEqual([]);
    // A body the route parses is documented, with the example the fuzzes send.
    if (e.body) expect(op.requestBody.content['application/json'].example).toEqual(e.bodyExample);
  }
  // Validation rules come from the zod schemas themselves.
  const create = doc.paths['/v1/workspaces'].post.requestBody.content['application/json'];
  expect(create.schema.properties.name).toMatchObject({ type: 'string', minLength: 1, maxLength: 200 });
  expect(create.schema.additionalProperties).toBe(false);
  expect(create.example).toEqual({ name: 'Acme' });
  const limit = doc.paths['/v1/workspaces'].get.parameters.find((p: { name: string }) => p.name === 'limit');
  expect(limit.schema).toMatchObject({ maximum: 100 });
  expect(doc.components.schemas.Error.properties).toHaveProperty('correlation_id');
  // The run event stream is documented as SSE; cancel has both of its successes.
  const events = doc.paths['/v1/agent-runs/{id}/events'].get;
  expect(events.responses['200'].content).toHaveProperty('text/event-stream');
  expect(events.responses['404']).toBeDefined();
  const cancel = doc.paths['/v1/agent-runs/{id}/cancel'].post.responses;
  expect(Object.keys(cancel)).toEqual(expect.arrayContaining(['200', '202', '404', '409']));
  // The development sign-in documents the 404 it answers everywhere but on a development machine.
  const devSession = doc.paths['/v1/dev/session'].post;
  expect(devSession.security).toEqual([]);
  expect(Object.keys(devSession.responses).sort()).toEqual(['200', '404']);
  expect(doc.paths['/v1/console/config'].get.security).toEqual([]);
  expect(doc.paths['/v1/workspaces/{workspace_id}'].patch.responses['403']).toBeDefined();
  const run = doc.paths['/v1/agent-runs'].post.requestBody.content['application/json'].schema;
  expect(run.additionalProperties).toBe(false);
  expect(run.properties.input.anyOf).toHaveLength(5);
  expect(run.properties.flow.enum).toContain('campaign');
  // The approval decision is an owner/admin write with both of its refusals documented.
  const approval = doc.paths['/v1/agent-runs/{id}/approval'].post.responses;
  expect(Object.keys(approval)).toEqual(expect.arrayContaining(['200', '403', '404', '409', '422']));
});

it('serves the docs page and its assets from node_modules (no CDN)', async () => {
  const page = await client(url).get('/docs');
  expect(page.status).toBe(200);
  expect(page.headers.get('content-type')).toMatch(/text\/html/);
  expect(page.body).not.toMatch(/https?:\/\//);
  for (const asset of ['/docs/assets/swagger-ui.css', '/docs/assets/swagger-ui-bundle.js', '/docs/init.js']) {
    const res = await fetch(`${url}${asset}`);
    expect(res.status).toBe(200);
    expect((await res.text()).length).toBeGreaterThan(20);
  }
});

it('refuses a 2xx answer that does not match its declared response', () => {
  const id = '6f1c2a9e-1d4b-4e0a-9d1c-0f6a3b2c1d4e';
  const workspace = { id, name: 'Acme', role: 'owner', created_at: '2026-11-27T10:00:00.000Z' };
  const json = 'application/json; charset=utf-8';
  const answer = (status: number, body: unknown, contentType: string | null = json) => ({
    status,
    contentType,
    body,
  });
  expect(() => checkResponse('GET', `/v1/workspaces/${id}`, answer(200, workspace))).not.toThrow();
  // A wrong field type, a missing field, an undeclared success, a wrong content type, a body on a 204.
  expect(() =>
    checkResponse('GET', `/v1/workspaces/${id}`, answer(200, { ...workspace, role: 'boss' })),
  ).toThrow(/role/);
  expect(() => checkResponse('GET', `/v1/workspaces/${id}?x=1`, answer(200, { id }))).toThrow(
    /declared schema/,
  );
  expect(() => checkResponse('GET', `/v1/workspaces/${id}`, answer(201, workspace))).toThrow(/not declared/);
  expect(() => checkResponse('GET', `/v1/workspaces/${id}`, answer(200, 'x', 'text/plain'))).toThrow(
    /content type/,
  );
  expect(() =>
    checkResponse('DELETE', `/v1/workspaces/${id}/members/${id}`, answer(204, { gone: true })),
  ).toThrow(/without a body/);
  // Matched as Express matches: `/stats` is not a run id, a list is not its item.
  expect(() => checkResponse('GET', '/v1/agent-runs/stats', answer(200, { data: [] }))).toThrow(
    /declared schema/,
  );
  expect(() => checkResponse('GET', '/v1/workspaces', answer(200, workspace))).toThrow(/declared schema/);
  // Errors are not this check's business (expectError and the fuzzes hold them to the error shape).
  expect(() => checkResponse('GET', `/v1/workspaces/${id}`, answer(404, { nope: 1 }))).not.toThrow();
});

it('holds every answer the test client receives to its declaration', async () => {
  // Declare /health/live as answering something else: the real answer must now fail the client's check.
  const live = endpointFor('GET', '/health/live')!;
  const declared = live.responses[200]!;
  live.responses[200] = { schema: z.object({ status: z.literal('nope') }), description: 'altered' };
  try {
    await expect(client(url).get('/health/live')).rejects.toThrow(/body does not match the declared schema/);
  } finally {
    live.responses[200] = declared;
  }
  expect((await client(url).get('/health/live')).body).toEqual({ status: 'ok' });
});
