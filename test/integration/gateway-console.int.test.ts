import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import { DEV_USER_ID } from '@raptorflow/core/auth/dev-token';
import { CREDENTIAL_VARIABLES } from '@raptorflow/core/config/llm-settings';
import { getSettings, parseSettings } from '@raptorflow/core/config/settings';
import type { Settings } from '@raptorflow/core/config/settings';
import { COUNCIL_OF_LORDS } from '@raptorflow/data/domain/council-of-lords';
import { FLOW_INPUT_SCHEMAS } from '@raptorflow/data/runs/flow-inputs';
import { detectMemorySearchPath } from '@raptorflow/data/memory/memory-vector';
import { createApp, whenReady } from '../../services/gateway/src/app';
import { newUser } from '../support/factories';
import { expectError, startGateway } from '../support/gateway';
import { client } from '../support/http';
import { openStack } from '../support/stack';

/**
 * The gateway's side of the console before and around sign-in: the development session, the console's
 * configuration and the flows (the static files of web/dist: gateway-console-static.int.test.ts).
 */
const stack = openStack();
const closers: Array<() => Promise<void>> = [];
afterAll(async () => {
  for (const close of closers) await close();
  await stack.close();
});

const development = (extra: Record<string, string> = {}): Settings =>
  parseSettings({ ...process.env, ENVIRONMENT: 'development', ...extra });

async function gateway(settings: Settings, consoleDir?: string): Promise<string> {
  const server = await startGateway(stack, settings, consoleDir ? { consoleDir } : {});
  closers.push(server.close);
  return server.url;
}

const notFoundBody = (method: string, p: string) => ({
  error: { code: 'not_found', message: `No route for ${method} ${p}` },
  correlation_id: expect.any(String),
});

describe('POST /v1/dev/session', () => {
  it('in development, for a local client: a token for the fixed development user that the API accepts', async () => {
    const url = await gateway(development());
    const res = await client(url).post('/v1/dev/session');
    expect(res.status).toBe(200);
    expect(res.headers.get('cache-control')).toBe('no-store');
    expect(res.body).toEqual({
      token: expect.any(String),
      user_id: DEV_USER_ID,
      expires_at: expect.any(String),
    });
    const ttl = Date.parse(res.body.expires_at) - Date.now();
    expect(ttl).toBeGreaterThan(11.9 * 3600_000);
    expect(ttl).toBeLessThanOrEqual(12 * 3600_000);
    const workspaces = await client(url, res.body.token).get('/v1/workspaces');
    expect(workspaces.status).toBe(200);
    expect(workspaces.body).toEqual({ data: expect.any(Array), next_cursor: null });
    // Every session is the same user, so what the developer made survives a restart.
    expect((await client(url).post('/v1/dev/session')).body.user_id).toBe(DEV_USER_ID);
  });

  it('carries the Supabase issuer when SUPABASE_URL is set, so the same gateway still accepts it', async () => {
    const url = await gateway(development({ SUPABASE_URL: 'https://proj.supabase.co' }));
    const { token } = (await client(url).post('/v1/dev/session')).body;
    const claims = JSON.parse(Buffer.from(token.split('.')[1], 'base64url').toString('utf8'));
    expect(claims).toMatchObject({ iss: 'https://proj.supabase.co/auth/v1', sub: DEV_USER_ID });
    expect((await client(url, token).get('/v1/workspaces')).status).toBe(200);
  });

  it('does not exist outside development: 404 with the body of an unknown route', async () => {
    const production = { ...development(), environment: 'production' as const, isProduction: true };
    for (const settings of [getSettings(), production]) {
      const url = await gateway(settings);
      const res = await client(url).post('/v1/dev/session');
      expectError(res, 404, 'not_found');
      expect(res.body).toEqual(notFoundBody('POST', '/v1/dev/session'));
      const unknown = await client(url).post('/nothing-here');
      expect(Object.keys(unknown.body.error)).toEqual(Object.keys(res.body.error));
    }
  });

  it('does not exist for a request through a proxy or naming another host: 404', async () => {
    const url = await gateway(development({ TRUST_PROXY: 'true' }));
    const attempts: Array<Record<string, string>> = [
      { 'x-forwarded-for': '127.0.0.1' },
      { forwarded: 'for=127.0.0.1' },
      { 'x-real-ip': '127.0.0.1' },
      { origin: 'https://evil.example' },
    ];
    for (const headers of attempts) {
      const res = await client(url).post('/v1/dev/session', undefined, { headers });
      expect(res.body).toEqual(notFoundBody('POST', '/v1/dev/session'));
    }
  });

  it('does not exist for a client on another machine, whatever its headers say', async () => {
    // A non-loopback address of this machine: the peer of the request is then not 127.0.0.1.
    const external = Object.values(os.networkInterfaces())
      .flat()
      .find((i) => i && i.family === 'IPv4' && !i.internal)?.address;
    if (!external) return console.warn('no non-loopback interface: the peer check is covered by unit tests');
    const app = createApp({
      settings: development(),
      db: stack.db,
      bus: stack.bus,
      redis: stack.redis,
      memoryPath: await detectMemorySearchPath(stack.db),
    });
    await whenReady(app);
    const server = http.createServer(app).listen(0, external);
    await new Promise((r) => server.once('listening', r));
    closers.push(() => new Promise((r) => server.close(() => r())));
    const port = (server.address() as AddressInfo).port;
    const answer = await new Promise<{ status: number; body: unknown }>((resolve, reject) => {
      const req = http.request(
        {
          host: external,
          port,
          method: 'POST',
          path: '/v1/dev/session',
          headers: { host: `127.0.0.1:${port}` },
        },
        (res) => {
          let text = '';
          res.on('data', (c) => (text += c));
          res.on('end', () => resolve({ status: res.statusCode!, body: JSON.parse(text) }));
        },
      );
      req.on('error', reject);
      req.end();
    });
    expect(answer).toEqual({ status: 404, body: notFoundBody('POST', '/v1/dev/session') });
  });
});

describe('GET /v1/console/config', () => {
  it('says how to sign in and that the models are the offline stand-in, and what would make them real', async () => {
    const url = await gateway(development());
    const res = await client(url).get('/v1/console/config');
    expect(res.status).toBe(200);
    expect(res.body).toEqual({
      environment: 'development',
      auth: { supabase: null, dev_login: true },
      models: {
        stand_in: true,
        aliases: ['fast', 'standard', 'heavy', 'embed'].map((alias) => ({
          alias,
          model: expect.any(String),
          provider: expect.stringMatching(/^(gemini|anthropic)$/),
          mode: 'local',
        })),
        enable_with: [CREDENTIAL_VARIABLES.gemini, CREDENTIAL_VARIABLES.anthropic],
      },
    });
    // Through a proxy the development sign-in would be refused, so it is not offered.
    const proxied = await client(url).get('/v1/console/config', {
      headers: { 'x-forwarded-for': '1.2.3.4' },
    });
    expect(proxied.body.auth.dev_login).toBe(false);
  });

  it('hands out the Supabase project (its anon key is public) and real models without a stand-in', async () => {
    const url = await gateway(
      development({
        SUPABASE_URL: 'https://proj.supabase.co',
        SUPABASE_ANON_KEY: 'public-anon-key',
        GEMINI_API_KEY: 'not-called',
        ANTHROPIC_API_KEY: 'not-called',
      }),
    );
    const { body } = await client(url).get('/v1/console/config');
    expect(body.auth).toEqual({
      supabase: { url: 'https://proj.supabase.co', anon_key: 'public-anon-key' },
      dev_login: true,
    });
    expect(body.models).toMatchObject({ stand_in: false, enable_with: [] });
    expect(body.models.aliases.every((a: { mode: string }) => a.mode === 'live')).toBe(true);
  });

  it('names LLM_PROVIDER when it forces the stand-in, and offers no development sign-in outside development', async () => {
    const local = await gateway(
      development({ LLM_PROVIDER: 'local', GEMINI_API_KEY: 'x', ANTHROPIC_API_KEY: 'y' }),
    );
    const { body } = await client(local).get('/v1/console/config');
    expect(body.models.stand_in).toBe(true);
    expect(body.models.enable_with[0]).toMatch(/^LLM_PROVIDER=auto/);
    const test = await gateway(getSettings());
    expect((await client(test).get('/v1/console/config')).body).toMatchObject({
      environment: 'test',
      auth: { dev_login: false },
    });
  });
});

describe('GET /v1/flows', () => {
  it('lists each flow with its Lords and a labelled JSON Schema of its input', async () => {
    const url = await gateway(getSettings());
    expectError(await client(url).get('/v1/flows'), 401, 'unauthenticated');
    const res = await client(url, (await newUser()).token).get('/v1/flows');
    expect(res.status).toBe(200);
    expect(res.body.next_cursor).toBeNull();
    expect(res.body.data.map((f: { name: string }) => f.name)).toEqual([
      'research',
      'muse',
      'matrix',
      'guardian',
      'campaign',
    ]);
    for (const flow of res.body.data) {
      expect(flow.description.length).toBeGreaterThan(20);
      // A Lord's default flow, plus the campaign that Strategos also runs.
      expect(flow.agents).toEqual(
        COUNCIL_OF_LORDS.filter(
          (l) => l.default_flow === flow.name || (flow.name === 'campaign' && l.key === 'strategos'),
        ).map((l) => l.key),
      );
      const schema = flow.input_schema;
      expect(schema).toMatchObject({ type: 'object', additionalProperties: false });
      const fields = Object.keys(FLOW_INPUT_SCHEMAS[flow.name as keyof typeof FLOW_INPUT_SCHEMAS].shape);
      expect(Object.keys(schema.properties)).toEqual(fields);
      for (const field of fields)
        expect(schema.properties[field]).toMatchObject({
          title: expect.any(String),
          description: expect.any(String),
        });
    }
    const research = res.body.data[0].input_schema;
    expect(research.required).toEqual(['topic']);
    expect(research.properties.topic).toMatchObject({
      type: 'string',
      minLength: 1,
      maxLength: 500,
      title: 'Topic',
    });
    expect(research.properties.depth).toMatchObject({
      enum: ['quick', 'standard', 'deep'],
      default: 'standard',
    });
    expect(res.body.data[2].input_schema.properties.horizon_weeks).toMatchObject({
      type: 'integer',
      default: 4,
    });
  });
});
