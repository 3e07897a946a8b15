import { ProviderError } from '../llm.types';
import {
  isAbortError,
  isNetworkError,
  kindForStatus,
  parseGoogleRetryDelay,
  parseRetryAfter,
  providerError,
  redact,
} from './provider-errors';

const NOW = Date.parse('2026-03-04T05:06:07Z');
const h = (init: Record<string, string>) => new Headers(init);

describe('parseRetryAfter', () => {
  it.each([
    ['2', 2000],
    ['0', 0],
    ['1.5', 1500],
    [' 30 ', 30_000],
  ])('reads delta-seconds %p as %i ms', (value, ms) => {
    expect(parseRetryAfter(h({ 'Retry-After': value }), NOW)).toBe(ms);
  });

  it('reads an HTTP-date relative to now, and a past date as no wait', () => {
    expect(parseRetryAfter(h({ 'retry-after': 'Wed, 04 Mar 2026 05:06:12 GMT' }), NOW)).toBe(5000);
    expect(parseRetryAfter(h({ 'retry-after': 'Wed, 04 Mar 2026 05:00:00 GMT' }), NOW)).toBe(0);
  });

  it.each(['soon', '-3', '', '1e3', '99999999'])('ignores an unusable value %p', (value) => {
    expect(parseRetryAfter(h({ 'retry-after': value }), NOW)).toBeUndefined();
  });

  it('prefers retry-after-ms, falling back to Retry-After when it is unusable', () => {
    expect(parseRetryAfter(h({ 'retry-after-ms': '1250', 'retry-after': '30' }), NOW)).toBe(1250);
    expect(parseRetryAfter(h({ 'retry-after-ms': '12.4' }), NOW)).toBe(13);
    expect(parseRetryAfter(h({ 'retry-after-ms': 'x', 'retry-after': '3' }), NOW)).toBe(3000);
  });

  it('accepts plain header records, case-insensitively, and nothing at all', () => {
    expect(parseRetryAfter({ 'Retry-After': '4' }, NOW)).toBe(4000);
    expect(parseRetryAfter({ 'retry-after': ['6', '9'] }, NOW)).toBe(6000);
    expect(parseRetryAfter({}, NOW)).toBeUndefined();
    expect(parseRetryAfter(undefined, NOW)).toBeUndefined();
  });
});

describe('parseGoogleRetryDelay', () => {
  const body = (retryDelay: unknown) => ({
    error: {
      code: 429,
      details: [
        { '@type': 'type.googleapis.com/google.rpc.QuotaFailure', violations: [] },
        { '@type': 'type.googleapis.com/google.rpc.RetryInfo', retryDelay },
      ],
    },
  });
  it('reads RetryInfo.retryDelay', () => {
    expect(parseGoogleRetryDelay(body('38s'))).toBe(38_000);
    expect(parseGoogleRetryDelay(body('0.25s'))).toBe(250);
  });
  it.each([body('soon'), body(5), { error: {} }, 'text', undefined])('ignores %p', (b) => {
    expect(parseGoogleRetryDelay(b)).toBeUndefined();
  });
});

describe('kindForStatus', () => {
  it.each([
    [429, 'rate_limited'],
    [500, 'server_error'],
    [502, 'server_error'],
    [503, 'server_error'],
    [529, 'server_error'],
    [400, 'client_error'],
    [401, 'client_error'],
    [404, 'client_error'],
    [413, 'client_error'],
    [302, 'bad_response'],
  ])('%i → %s', (status, kind) => {
    expect(kindForStatus(status)).toBe(kind);
  });
});

describe('redact', () => {
  it('removes the instance secret and common credential shapes', () => {
    const text =
      'key my-own-secret-value; Authorization: Bearer abc.def.ghi; {"x-api-key":"sk-ant-api03-xyz"} ' +
      'url ?key=AIzaSyABCDEFGHIJKLMNOPQRSTUVWXYZ012345&alt=sse token ya29.a0AfB_byC';
    const out = redact(text, ['my-own-secret-value']);
    for (const s of ['my-own-secret-value', 'abc.def.ghi', 'sk-ant-api03-xyz', 'AIzaSy', 'ya29.a0'])
      expect(out).not.toContain(s);
    expect(out).toContain('alt=sse');
  });
});

describe('providerError', () => {
  it('builds a scrubbed, bounded ProviderError with its context', () => {
    const err = providerError(
      'client_error',
      { provider: 'anthropic', model: 'claude-x', secrets: ['s3cr3t-key'] },
      `bad key s3cr3t-key ${'x'.repeat(2000)}`,
      { status: 401 },
    );
    expect(err).toBeInstanceOf(ProviderError);
    expect(err.message).toMatch(/^anthropic claude-x HTTP 401: bad key \[redacted\] x+…$/);
    expect(err.message.length).toBeLessThan(600);
    expect(err.opts).toEqual({ provider: 'anthropic', model: 'claude-x', status: 401 });
  });
});

describe('error classification helpers', () => {
  it('finds socket errors through the cause chain', () => {
    const refused = Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' });
    expect(isNetworkError(new TypeError('fetch failed', { cause: refused }))).toBe(true);
    expect(isNetworkError(new Error('wrapped', { cause: refused }))).toBe(true);
    expect(isNetworkError(new Error('Could not load the default credentials'))).toBe(false);
  });
  it('treats an aborted signal or an AbortError as an abort', () => {
    expect(isAbortError(new Error('x'), AbortSignal.abort())).toBe(true);
    expect(isAbortError(new DOMException('aborted', 'AbortError'))).toBe(true);
    expect(isAbortError(new Error('x'), new AbortController().signal)).toBe(false);
  });
});
