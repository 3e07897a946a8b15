import { isTrue } from './env-parsers';
import type { EnvVars } from './env.schema';

/**
 * What production refuses (each problem names its variable, and parseSettings reports them all at once):
 * short or shipped secrets, connections without TLS, a proxy trust that lets clients pick their address.
 */

export const DEV_JWT_SECRET = 'raptorflow-development-jwt-secret-change-me-0000';
export const DEV_SECRET_KEY = 'raptorflow-development-secret-key-change-me-00000';
const MIN_SECRET_KEY_LENGTH = 32;
const MIN_METRICS_TOKEN_LENGTH = 16;
const MIN_BULL_BOARD_PASSWORD_LENGTH = 16;
export const DEV_BULL_BOARD_PASSWORD = 'raptorflow';

/**
 * Every secret value this repository ships (development defaults, and the example values used to validate
 * docker-compose.yml in CI): all public, so production refuses each of them wherever a secret goes. A test
 * reads the shipped files and checks that this list covers them.
 */
export const SHIPPED_SECRET_VALUES: ReadonlySet<string> = new Set([
  DEV_JWT_SECRET,
  DEV_SECRET_KEY,
  DEV_BULL_BOARD_PASSWORD,
  'postgres',
  'example-postgres-password',
  'example-jwt-secret-of-at-least-32-characters',
  'example-secret-key-of-at-least-32-characters',
  'example-bull-board-password',
  'example-metrics-token',
]);
const TLS_SSLMODES = ['require', 'verify-ca', 'verify-full'];

/**
 * Every production problem of the environment that is not about the LLM providers (llm-settings.ts).
 * `invalid`: variables already reported as malformed, so they are not reported as missing too.
 */
export function productionProblems(e: EnvVars, invalid: ReadonlySet<string> = new Set()): string[] {
  const problems: string[] = [];
  problems.push(...consoleSignInProblems(e, invalid));
  // With REDIS_CLUSTER_NODES set REDIS_URL is ignored; REDIS_CLUSTER_TLS is checked instead (redis-settings.ts).
  if (!e.REDIS_CLUSTER_NODES && e.REDIS_URL?.startsWith('redis://'))
    problems.push('REDIS_URL must use TLS (rediss://) in production');
  if (e.SECRET_KEY !== undefined && e.SECRET_KEY.length < MIN_SECRET_KEY_LENGTH)
    problems.push(`SECRET_KEY must be at least ${MIN_SECRET_KEY_LENGTH} characters in production`);
  if (e.SUPABASE_JWT_SECRET !== undefined && e.SUPABASE_JWT_SECRET.length < MIN_SECRET_KEY_LENGTH)
    problems.push(`SUPABASE_JWT_SECRET must be at least ${MIN_SECRET_KEY_LENGTH} characters in production`);
  if (e.BUDGET_ENFORCEMENT !== undefined && !isTrue(e.BUDGET_ENFORCEMENT, true))
    problems.push('BUDGET_ENFORCEMENT cannot be turned off in production');
  if ((e.BULL_BOARD_USERNAME === undefined) !== (e.BULL_BOARD_PASSWORD === undefined))
    problems.push('BULL_BOARD_USERNAME and BULL_BOARD_PASSWORD must be set together');
  problems.push(...tlsProblems(e), ...shippedSecretProblems(e));
  if (e.TRUST_PROXY === 'true')
    problems.push(
      'TRUST_PROXY=true trusts any client to set X-Forwarded-For in production: name the hops or subnets instead',
    );
  if (e.BULL_BOARD_PASSWORD !== undefined && e.BULL_BOARD_PASSWORD.length < MIN_BULL_BOARD_PASSWORD_LENGTH)
    problems.push(
      `BULL_BOARD_PASSWORD must be at least ${MIN_BULL_BOARD_PASSWORD_LENGTH} characters in production`,
    );
  if (e.METRICS_TOKEN !== undefined && e.METRICS_TOKEN.length < MIN_METRICS_TOKEN_LENGTH)
    problems.push(`METRICS_TOKEN must be at least ${MIN_METRICS_TOKEN_LENGTH} characters in production`);
  if (e.OTEL_EXPORTER_OTLP_HEADERS !== undefined && plainHttpOffHost(e.OTEL_EXPORTER_OTLP_ENDPOINT))
    problems.push(
      'OTEL_EXPORTER_OTLP_HEADERS would be sent in clear text: use an https:// OTEL_EXPORTER_OTLP_ENDPOINT (or a collector on loopback)',
    );
  return problems;
}

/**
 * The console signs people in with Supabase Auth: it needs the project's URL and its public anon key, and the
 * gateway needs the URL for the project's JWKS. Production has no development sign-in to fall back on.
 */
function consoleSignInProblems(e: EnvVars, invalid: ReadonlySet<string>): string[] {
  const missing = (['SUPABASE_URL', 'SUPABASE_ANON_KEY'] as const).filter(
    (name) => e[name] === undefined && !invalid.has(name),
  );
  return missing.map(
    (name) =>
      `${name} is required in production: the console signs users in with Supabase Auth, which needs SUPABASE_URL (the project URL) and SUPABASE_ANON_KEY (its public anon key)`,
  );
}

/** An http:// URL to another host: what crosses the network there can be read on the way. */
function plainHttpOffHost(url: string | undefined): boolean {
  if (!url?.startsWith('http://')) return false;
  const host = new URL(url).hostname;
  return !['localhost', '127.0.0.1', '[::1]'].includes(host);
}

export function trustProxyFrom(v: string | undefined): boolean | number | string {
  if (v === undefined || v === 'false') return false;
  if (v === 'true') return true;
  return /^\d+$/.test(v) ? Number(v) : v;
}

/** A secret anyone can read in this repository is no secret: production refuses each, by variable. */
function shippedSecretProblems(e: EnvVars): string[] {
  const secrets: [string, string | undefined][] = [
    ['SUPABASE_JWT_SECRET', e.SUPABASE_JWT_SECRET],
    ['SECRET_KEY', e.SECRET_KEY],
    ['SUPABASE_SERVICE_KEY', e.SUPABASE_SERVICE_KEY],
    ['BULL_BOARD_PASSWORD', e.BULL_BOARD_PASSWORD],
    ['METRICS_TOKEN', e.METRICS_TOKEN],
    ['DATABASE_URL', databasePassword(e.DATABASE_URL)],
  ];
  return secrets
    .filter(([, value]) => value !== undefined && SHIPPED_SECRET_VALUES.has(value))
    .map(
      ([name]) =>
        `${name} is a value shipped with this repository (a development or example default): set a secret of your own`,
    );
}

function databasePassword(url: string | undefined): string | undefined {
  if (url === undefined) return undefined;
  try {
    return decodeURIComponent(new URL(url).password) || undefined;
  } catch {
    return undefined;
  }
}

/** Production talks to the outside only over TLS; each refusal names its variable. */
function tlsProblems(e: EnvVars): string[] {
  const problems: string[] = [];
  if (e.DATABASE_URL !== undefined) {
    let sslmode: string | null = null;
    try {
      sslmode = new URL(e.DATABASE_URL).searchParams.get('sslmode');
    } catch {
      // An unparsable URL is reported by the driver at connect time; here it simply has no sslmode.
    }
    const mode = sslmode ?? e.PGSSLMODE;
    if (!mode || !TLS_SSLMODES.includes(mode))
      problems.push(
        `DATABASE_URL must use TLS in production: add ?sslmode=require (or verify-ca / verify-full), or set PGSSLMODE`,
      );
  }
  if (e.SUPABASE_URL !== undefined && !e.SUPABASE_URL.startsWith('https://'))
    problems.push('SUPABASE_URL must be an https:// URL in production (its JWKS is fetched from it)');
  if (e.BUDGET_ALERT_WEBHOOK_URL !== undefined && !e.BUDGET_ALERT_WEBHOOK_URL.startsWith('https://'))
    problems.push('BUDGET_ALERT_WEBHOOK_URL must be an https:// URL in production');
  return problems;
}
