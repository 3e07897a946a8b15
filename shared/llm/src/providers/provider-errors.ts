import { ProviderError } from '../llm.types';
import type { ProviderErrorKind, ProviderName } from '../llm.types';

/** Who failed: stamped on every ProviderError so the dispatcher's logs and metrics need no extra context. */
export interface ErrorContext {
  provider: ProviderName;
  model: string;
  /** Credentials of this provider instance: scrubbed from every message we build, whatever the SDK put in. */
  secrets?: readonly (string | undefined)[];
}

/** Anything with a case-insensitive `get`, as fetch's Headers; or a plain record, as node's IncomingHttpHeaders. */
export type HeaderSource =
  | { get(name: string): string | null | undefined }
  | Record<string, string | string[] | undefined>
  | undefined;

// Upper bound on an error message: SDKs put whole response bodies in there, and logs should stay readable.
const MAX_MESSAGE_CHARS = 500;

// Longest wait we believe from a server; beyond it the header is nonsense (or a date far ahead) and the
// dispatcher's own backoff is the better guess.
const MAX_RETRY_AFTER_MS = 24 * 60 * 60 * 1000;

function header(headers: HeaderSource, name: string): string | undefined {
  if (!headers) return undefined;
  if (typeof headers.get === 'function') return headers.get(name) ?? undefined;
  const rec = headers as Record<string, string | string[] | undefined>;
  const key = Object.keys(rec).find((k) => k.toLowerCase() === name);
  const v = key === undefined ? undefined : rec[key];
  return Array.isArray(v) ? v[0] : v;
}

function plausible(ms: number): number | undefined {
  return Number.isFinite(ms) && ms >= 0 && ms <= MAX_RETRY_AFTER_MS ? Math.ceil(ms) : undefined;
}

/**
 * The server's requested wait in ms. `retry-after-ms` (Anthropic) wins as the more precise; `Retry-After` is
 * delta-seconds or an HTTP-date (RFC 9110 §10.2.3). A date in the past means "now" (0), garbage means unknown.
 */
export function parseRetryAfter(headers: HeaderSource, now: number = Date.now()): number | undefined {
  const ms = header(headers, 'retry-after-ms')?.trim();
  if (ms && /^\d+(\.\d+)?$/.test(ms)) {
    const v = plausible(Number(ms));
    if (v !== undefined) return v;
  }
  const ra = header(headers, 'retry-after')?.trim();
  if (!ra) return undefined;
  if (/^\d+(\.\d+)?$/.test(ra)) return plausible(Number(ra) * 1000);
  // An HTTP-date names a weekday and month; Date.parse alone would take "-3" for the year -3.
  if (!/[a-z]/i.test(ra)) return undefined;
  const at = Date.parse(ra);
  if (Number.isNaN(at)) return undefined;
  return plausible(Math.max(0, at - now));
}

/** Google's `google.rpc.RetryInfo` detail (`"retryDelay": "2.5s"`), which Gemini sends on 429 instead of a header. */
export function parseGoogleRetryDelay(body: unknown): number | undefined {
  const details = (body as { error?: { details?: unknown } } | undefined)?.error?.details;
  if (!Array.isArray(details)) return undefined;
  for (const d of details as Array<Record<string, unknown>>) {
    if (typeof d?.['@type'] !== 'string' || !d['@type'].endsWith('google.rpc.RetryInfo')) continue;
    const m = /^(\d+(?:\.\d+)?)s$/.exec(String(d.retryDelay ?? '').trim());
    if (m) return plausible(Number(m[1]) * 1000);
  }
  return undefined;
}

export function kindForStatus(status: number): ProviderErrorKind {
  if (status === 429) return 'rate_limited';
  // 529 is Anthropic's "overloaded"; it is >= 500 anyway, named here because it is the one people look for.
  if (status >= 500 || status === 529) return 'server_error';
  if (status >= 400) return 'client_error';
  // A 1xx/3xx reaching us means a proxy or redirect the SDK did not follow: the body is not an answer.
  return 'bad_response';
}

/**
 * Removes credentials from text headed for logs: this instance's own secrets verbatim, and the usual shapes of
 * keys and bearer tokens in case an SDK echoes a header or a URL with `?key=`.
 */
export function redact(text: string, secrets: readonly (string | undefined)[] = []): string {
  let out = text;
  for (const s of secrets) if (s && s.length >= 4) out = out.split(s).join('[redacted]');
  return out
    .replace(/(authorization["']?\s*[:=]\s*["']?)(bearer\s+)?[^\s"',}]+/gi, '$1$2[redacted]')
    .replace(/\bbearer\s+[A-Za-z0-9._~+/=-]{8,}/gi, 'Bearer [redacted]')
    .replace(/(x-(?:goog-)?api-key["']?\s*[:=]\s*["']?)[^\s"',}]+/gi, '$1[redacted]')
    .replace(/([?&]key=)[^&\s"']+/gi, '$1[redacted]')
    .replace(/\bsk-ant-[A-Za-z0-9_-]+/g, '[redacted]')
    .replace(/\bAIza[A-Za-z0-9_-]{20,}/g, '[redacted]')
    .replace(/\bya29\.[A-Za-z0-9._-]+/g, '[redacted]');
}

export function errorMessage(err: unknown): string {
  if (err instanceof Error) return err.message || err.name;
  // An Error from another realm (Node internals seen from a vm sandbox) fails instanceof but has a message.
  const m = (err as { message?: unknown } | null | undefined)?.message;
  if (typeof m === 'string' && m) return m;
  return typeof err === 'string' ? err : 'unknown error';
}

/** The message plus its cause's: fetch hides the useful part ("ECONNREFUSED") in `cause`. */
export function describeError(err: unknown): string {
  const cause = (err as { cause?: unknown } | undefined)?.cause;
  return cause ? `${errorMessage(err)} (${errorMessage(cause)})` : errorMessage(err);
}

/** Builds the one error shape the dispatcher sees, with a scrubbed, bounded message. */
export function providerError(
  kind: ProviderErrorKind,
  ctx: ErrorContext,
  detail: string,
  extra: { status?: number; retryAfterMs?: number } = {},
): ProviderError {
  const clean = redact(detail, ctx.secrets ?? []);
  const short = clean.length > MAX_MESSAGE_CHARS ? `${clean.slice(0, MAX_MESSAGE_CHARS)}…` : clean;
  const status = extra.status === undefined ? '' : ` HTTP ${extra.status}`;
  return new ProviderError(kind, `${ctx.provider} ${ctx.model}${status}: ${short}`, {
    provider: ctx.provider,
    model: ctx.model,
    ...(extra.status === undefined ? {} : { status: extra.status }),
    ...(extra.retryAfterMs === undefined ? {} : { retryAfterMs: extra.retryAfterMs }),
  });
}

/** An HTTP error status from either SDK, with the server's wait when it gave one. */
export function statusError(
  status: number,
  ctx: ErrorContext,
  detail: string,
  retryAfterMs?: number,
): ProviderError {
  return providerError(kindForStatus(status), ctx, detail, {
    status,
    ...(retryAfterMs === undefined ? {} : { retryAfterMs }),
  });
}

const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ECONNABORTED',
  'EPIPE',
  'ENOTFOUND',
  'EAI_AGAIN',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'UND_ERR_SOCKET',
  'UND_ERR_CLOSED',
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_BODY_TIMEOUT',
]);

/**
 * True for a failure of the connection itself: undici's `TypeError: fetch failed` / `terminated` or any error
 * whose cause chain carries a socket error code. Walks `cause` because fetch wraps the socket error.
 */
export function isNetworkError(err: unknown): boolean {
  let e: unknown = err;
  for (let depth = 0; e && depth < 6; depth++) {
    const { code, message, name } = e as { code?: unknown; message?: unknown; name?: unknown };
    if (typeof code === 'string' && NETWORK_CODES.has(code)) return true;
    if (name === 'TypeError' && (message === 'fetch failed' || message === 'terminated')) return true;
    if (name === 'SocketError' || name === 'ConnectTimeoutError') return true;
    e = (e as { cause?: unknown }).cause;
  }
  return false;
}

// What google-auth-library says when it has no credentials to give (ADC missing, key file unreadable,
// refresh refused). Matched on the message because the library throws plain Errors, sometimes with a socket
// error as the cause (the metadata-server probe), which must not make it look like a network blip.
const CREDENTIAL_MESSAGES =
  /default credentials|Failed to acquire Google OAuth credentials|GOOGLE_APPLICATION_CREDENTIALS|does not exist, or it is not a file|Could not refresh access token|invalid_grant|Unable to detect a Project Id/i;

const FILE_CALLS = new Set(['open', 'lstat', 'stat', 'access', 'readFile']);

/** True when the failure is missing or unusable credentials: a configuration error, not a network one. */
export function isCredentialError(err: unknown): boolean {
  let e: unknown = err;
  for (let depth = 0; e && depth < 6; depth++) {
    const { message, code, syscall } = e as { message?: unknown; code?: unknown; syscall?: unknown };
    if (typeof message === 'string' && CREDENTIAL_MESSAGES.test(message)) return true;
    // The only file a provider call opens is its key file (GOOGLE_APPLICATION_CREDENTIALS / keyFilename).
    if (FILE_CALLS.has(String(syscall)) && (code === 'ENOENT' || code === 'EACCES')) return true;
    e = (e as { cause?: unknown }).cause;
  }
  return false;
}

/** An abort raised by fetch/SDK (DOMException AbortError, undici's AbortError, our signal's reason). */
export function isAbortError(err: unknown, signal?: AbortSignal): boolean {
  if (signal?.aborted) return true;
  const name = (err as { name?: unknown } | undefined)?.name;
  return name === 'AbortError';
}

/** Reports an abort: the dispatcher knows whether its timer or the caller pulled the signal, so we don't guess. */
export function abortedError(ctx: ErrorContext): ProviderError {
  return providerError('aborted', ctx, 'request aborted');
}
