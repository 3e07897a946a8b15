import { useGateway } from '../support/gateway';
import { client } from '../support/http';
import { openStack } from '../support/stack';

const stack = openStack();
const gateway = useGateway(stack);
let url: string;
beforeAll(() => {
  url = gateway.url();
});

const ROUTES = [
  ['post', '/v1/workspaces'],
  ['get', '/v1/workspaces'],
  ['get', '/v1/workspaces/{workspace_id}'],
  ['get', '/v1/workspaces/{workspace_id}/members'],
  ['post', '/v1/workspaces/{workspace_id}/members'],
  ['patch', '/v1/workspaces/{workspace_id}/members/{user_id}'],
  ['delete', '/v1/workspaces/{workspace_id}/members/{user_id}'],
  ['get', '/v1/workspaces/{workspace_id}/budget'],
  ['put', '/v1/workspaces/{workspace_id}/budget'],
  ['get', '/v1/agents'],
  ['get', '/v1/audit-logs'],
  ['post', '/v1/events'],
  ['post', '/v1/model/dispatch'],
  ['get', '/v1/costs/summary'],
  ['get', '/v1/costs/daily'],
  ['post', '/v1/agent-runs'],
  ['get', '/v1/agent-runs'],
  ['get', '/v1/agent-runs/stats'],
  ['get', '/v1/agent-runs/{id}'],
  ['post', '/v1/agent-runs/{id}/cancel'],
  ['get', '/v1/agent-runs/{id}/events'],
  ['get', '/v1/workspaces/{workspace_id}/guardrails'],
  ['put', '/v1/workspaces/{workspace_id}/guardrails'],
] as const;

it('serves an OpenAPI 3.1 document generated from the request schemas', async () => {
  const res = await client(url).get('/openapi.json');
  expect(res.status).toBe(200);
  const doc = res.body;
  expect(doc.openapi).toBe('3.1.0');
  expect(doc.components.securitySchemes.bearerAuth).toMatchObject({ type: 'http', scheme: 'bearer' });
  for (const [method, path] of ROUTES) {
    const op = doc.paths[path]?.[method];
    if (!op) throw new Error(`${method.toUpperCase()} ${path} is not documented`);
    expect(op.responses['401']).toBeDefined();
    expect(op.responses['422']).toBeDefined();
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
  const run = doc.paths['/v1/agent-runs'].post.requestBody.content['application/json'].schema;
  expect(run.additionalProperties).toBe(false);
  expect(run.properties.input.anyOf).toHaveLength(4);
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
