import { DEV_USER_ID, signDevToken } from '@raptorflow/core/auth/dev-token';
import type { Environment } from '@raptorflow/core/config/settings';
import { loopbackRefusal } from './loopback-only.guard';
import type { LoopbackRequest } from './loopback-only.guard';

export interface DevSessionServiceOptions {
  environment: Environment;
  /** SUPABASE_JWT_SECRET, JWT_AUDIENCE: the token is verified like any other HS256 token. */
  secret: string;
  audience: string;
  /** SUPABASE_URL: once set the verifier wants `iss` = `${SUPABASE_URL}/auth/v1`, so the token carries it. */
  supabaseUrl: string | undefined;
  ttlSeconds?: number;
  /** Epoch milliseconds; tests pin it. */
  now?: () => number;
}

export interface DevSession {
  token: string;
  user_id: string;
  expires_at: string;
}

/**
 * The console's "sign in as the developer" on a development machine: a token for the one fixed development
 * user (DEV_USER_ID), the same kind `npm start` prints. Outside ENVIRONMENT=development, or for any client
 * that is not a direct local one, it does not exist (the route answers as an unknown route does).
 */
export class DevSessionService {
  private readonly opts: DevSessionServiceOptions;
  private readonly issuer: string | undefined;

  constructor(opts: DevSessionServiceOptions) {
    this.opts = opts;
    const base = opts.supabaseUrl?.replace(/\/+$/, '');
    this.issuer = base ? `${base}/auth/v1` : undefined;
  }

  /** Whether this request may open a session: development, and a direct request from this machine. */
  allows(req: LoopbackRequest): boolean {
    return this.opts.environment === 'development' && loopbackRefusal(req) === undefined;
  }

  open(): DevSession {
    const { token, expiresAt } = signDevToken({
      userId: DEV_USER_ID,
      secret: this.opts.secret,
      audience: this.opts.audience,
      ttlSeconds: this.opts.ttlSeconds,
      ...(this.issuer ? { issuer: this.issuer } : {}),
      ...(this.opts.now ? { now: this.opts.now() } : {}),
    });
    return { token, user_id: DEV_USER_ID, expires_at: expiresAt.toISOString() };
  }
}
