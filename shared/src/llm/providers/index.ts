export { GeminiProvider } from './gemini.provider';
export type { GeminiProviderOptions, GeminiGoogleAuthOptions } from './gemini.provider';
export { AnthropicProvider } from './anthropic.provider';
export type { AnthropicProviderOptions, VertexAuthClient, VertexGoogleAuth } from './anthropic.provider';
export {
  isNetworkError,
  kindForStatus,
  parseGoogleRetryDelay,
  parseRetryAfter,
  redact,
} from './provider-errors';
