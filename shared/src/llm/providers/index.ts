export { GeminiProvider } from './gemini.provider';
export type { GeminiProviderOptions, GoogleAuthOptions } from './gemini.provider';
export { AnthropicProvider } from './anthropic.provider';
export type { AnthropicProviderOptions, GoogleAuth, GoogleAuthClient } from './anthropic.provider';
export {
  isNetworkError,
  kindForStatus,
  parseGoogleRetryDelay,
  parseRetryAfter,
  redact,
} from './provider-errors';
