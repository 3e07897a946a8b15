import { OAuth2Client } from 'google-auth-library';
import type { LlmProvider, ProviderRequest } from '@raptorflow/llm/llm.types';
import { AnthropicProvider } from '@raptorflow/llm/providers/anthropic.provider';
import { GeminiProvider } from '@raptorflow/llm/providers/gemini.provider';
import type { FakeAnthropicServer } from './fake-anthropic.server';
import type { FakeGeminiServer } from './fake-gemini.server';

/**
 * The four ways we reach a model (Gemini API key / Vertex, Anthropic direct / Vertex), each a real SDK client
 * pointed at a fake server, with the exact wire path and auth header it is expected to produce.
 */
export const GEMINI_KEY = 'AIzaSyFAKE-gemini-key-0123456789abcdefg';
export const ANTHROPIC_KEY = 'sk-ant-api03-FAKE-anthropic-key-0123456789';
export const ACCESS_TOKEN = 'ya29.FAKE-vertex-access-token';

// A Google OAuth client that already holds a valid token: Vertex auth without credentials or a token endpoint.
export function vertexAuth(): OAuth2Client {
  const client = new OAuth2Client();
  client.setCredentials({ access_token: ACCESS_TOKEN, expiry_date: Date.now() + 3_600_000 });
  return client;
}

export interface ProviderTarget {
  label: 'Gemini API key' | 'Gemini Vertex' | 'Anthropic direct' | 'Anthropic Vertex';
  family: 'gemini' | 'anthropic';
  model: string;
  /** The exact path the SDK calls, and the auth header it sends. */
  wire: { path: string; auth: [header: string, value: string] };
  /** A provider on the fake's URL, or on `baseUrl` when given (e.g. a closed port). */
  make(baseUrl?: string): LlmProvider;
}

export function providerTargets(gemini: FakeGeminiServer, anthropic: FakeAnthropicServer): ProviderTarget[] {
  return [
    {
      label: 'Gemini API key',
      family: 'gemini',
      model: 'gemini-3.8-flash',
      wire: { path: '/v1beta/models/gemini-3.8-flash:generateContent', auth: ['x-goog-api-key', GEMINI_KEY] },
      make: (url = gemini.url) => new GeminiProvider({ apiKey: GEMINI_KEY, baseUrl: url }),
    },
    {
      label: 'Gemini Vertex',
      family: 'gemini',
      model: 'gemini-3.1-pro-preview',
      wire: {
        path: '/v1beta1/projects/rf-test/locations/us-central1/publishers/google/models/gemini-3.1-pro-preview:generateContent',
        auth: ['authorization', `Bearer ${ACCESS_TOKEN}`],
      },
      make: (url = gemini.url) =>
        new GeminiProvider({
          vertex: { project: 'rf-test', location: 'us-central1' },
          baseUrl: url,
          googleAuthOptions: { authClient: vertexAuth() },
        }),
    },
    {
      label: 'Anthropic direct',
      family: 'anthropic',
      model: 'claude-sonnet-4-6',
      // SDK 1.x sends the API key as a bearer token, not x-api-key.
      wire: { path: '/v1/messages', auth: ['authorization', `Bearer ${ANTHROPIC_KEY}`] },
      make: (url = anthropic.url) => new AnthropicProvider({ apiKey: ANTHROPIC_KEY, baseUrl: url }),
    },
    {
      label: 'Anthropic Vertex',
      family: 'anthropic',
      model: 'claude-haiku-4-5@20251001',
      wire: {
        path: '/v1/projects/rf-test/locations/us-east5/publishers/anthropic/models/claude-haiku-4-5@20251001:rawPredict',
        auth: ['authorization', `Bearer ${ACCESS_TOKEN}`],
      },
      make: (url = anthropic.url) =>
        new AnthropicProvider({
          vertex: { projectId: 'rf-test', region: 'us-east5' },
          baseUrl: `${url}/v1`,
          authClient: vertexAuth(),
        }),
    },
  ];
}

export function request(model: string, over: Partial<ProviderRequest> = {}): ProviderRequest {
  return {
    model,
    system: 'You are a concise marketing assistant.',
    messages: [{ role: 'user', content: 'Write a tagline for a bakery.' }],
    maxTokens: 256,
    signal: new AbortController().signal,
    ...over,
  };
}
