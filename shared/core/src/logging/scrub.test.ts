import { scrubSecrets } from './scrub';

// Built at run time so no secret-looking literal sits in the source.
const b64url = (s: string) => Buffer.from(s).toString('base64url');
const JWT = `${b64url('{"alg":"HS256","typ":"JWT"}')}.${b64url('{"sub":"someone","exp":9999999999}')}.c2lnbmF0dXJlLXNpZ25hdHVyZQ`;
const ANTHROPIC_KEY = `sk-ant-api03-${'Ab3_-'.repeat(12)}`;

describe('scrubSecrets', () => {
  it('removes the password from a connection URL but keeps the rest', () => {
    const out = scrubSecrets('connect ECONNREFUSED postgres://app:hunter2@db.internal:5432/raptorflow');
    expect(out).not.toContain('hunter2');
    expect(out).toContain('postgres://app:[redacted]@db.internal:5432/raptorflow');
  });

  it('removes passwords from rediss URLs with an empty user', () => {
    const out = scrubSecrets('Error: rediss://:s3cr3t-P%40ss@cache.internal:6380 unreachable');
    expect(out).not.toContain('s3cr3t');
    expect(out).toContain('cache.internal:6380');
  });

  it('removes every URL password in a multi-line stack', () => {
    const out = scrubSecrets('at a (postgres://u:one@h/db)\nat b (redis://u:two@h:6379)');
    expect(out).not.toMatch(/one@|two@/);
  });

  it('removes Bearer and Basic credentials', () => {
    const bearer = scrubSecrets('Authorization: Bearer abc.DEF-123_xyz~+/=');
    expect(bearer).toBe('Authorization: Bearer [redacted]');
    const basic = scrubSecrets(`header was Basic ${Buffer.from('admin:raptorflow').toString('base64')}`);
    expect(basic).toBe('header was Basic [redacted]');
  });

  it('removes a bare JWT', () => {
    const out = scrubSecrets(`invalid token ${JWT} rejected`);
    expect(out).not.toContain(JWT);
    expect(out).not.toContain(JWT.split('.')[1]!);
    expect(out).toBe('invalid token [redacted-jwt] rejected');
  });

  it('removes Anthropic-style API keys', () => {
    const out = scrubSecrets(`401 from api.anthropic.com with key ${ANTHROPIC_KEY}.`);
    expect(out).not.toContain(ANTHROPIC_KEY);
    expect(out).not.toContain('sk-ant-');
    expect(out).toContain('[redacted-key]');
  });

  it('removes Google-style API keys', () => {
    const key = `AIza${'Sy0_-x'.repeat(6)}`;
    expect(scrubSecrets(`key=${key}`)).toBe('key=[redacted-key]');
  });

  it.each([
    'Workspace not found',
    'relation "agent_runs" does not exist',
    'connect ECONNREFUSED 127.0.0.1:5432',
    'see https://docs.raptorflow.test/errors#budget for details',
    'postgres://app@db.internal:5432/raptorflow',
    'The bearer of this message said: hello',
    'time 12:30:45 and ratio 3:4',
    'user@example.com wrote "eyJ" then stopped',
    '',
  ])('leaves ordinary text alone: %p', (text) => {
    expect(scrubSecrets(text)).toBe(text);
  });

  it('is idempotent', () => {
    const once = scrubSecrets(`postgres://u:p@h/db Bearer ${JWT} ${ANTHROPIC_KEY}`);
    expect(scrubSecrets(once)).toBe(once);
  });
});
