/**
 * Last line of defence for free text (error messages, stacks) that may quote a connection string or a
 * token: structured fields are redacted by path, but a driver error can embed a URL with a password.
 */
const URL_CREDENTIALS = /(\b[a-z][a-z0-9+.-]*:\/\/[^:/?#\s@]*):[^@/\s]+@/gi;
const BEARER = /\b(Bearer|Basic)\s+[A-Za-z0-9._~+/=-]+/g;
const JWT = /\beyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]*/g;
const API_KEY = /\b(sk-ant-[A-Za-z0-9_-]+|AIza[0-9A-Za-z_-]{20,})/g;

export function scrubSecrets(text: string): string {
  return text
    .replace(URL_CREDENTIALS, '$1:[redacted]@')
    .replace(BEARER, '$1 [redacted]')
    .replace(JWT, '[redacted-jwt]')
    .replace(API_KEY, '[redacted-key]');
}
