export { FakeLlmServer, DEFAULT_OUTPUT_TOKENS, estimateTokens } from './fake-server.base';
export type { FakeBehaviour, FakeStatusBehaviour, RecordedRequest } from './fake-server.base';
export { FakeAnthropicServer } from './fake-anthropic.server';
export type { AnthropicFakeOk, AnthropicFakeUsage } from './fake-anthropic.server';
export { FakeGeminiServer } from './fake-gemini.server';
export type { GeminiFakeOk, GeminiFakeUsage } from './fake-gemini.server';
