import { useQueryClient } from '@tanstack/react-query';
import { createContext, useCallback, useContext, useEffect, useMemo, useRef, useState } from 'react';
import type { ReactNode } from 'react';
import { createApiClient, unwrap } from '../api/client';
import type { Api } from '../api/client';
import type { ConsoleConfig } from '../api/types';
import { clearDevSession, loadDevSession, saveDevSession } from '../auth/dev-session';
import { loadSupabaseAuth } from '../auth/supabase-auth';
import type { SupabaseAuth } from '../auth/supabase-auth';

export interface Session {
  token: string;
  userId: string | null;
  email: string | null;
  source: 'dev' | 'supabase';
}

export type AuthStatus = 'loading' | 'signed-out' | 'signed-in';

export interface SessionContextValue {
  api: Api;
  /** The fetch the API client uses, for what openapi-fetch does not read (the run event stream). */
  fetch: (input: string, init?: RequestInit) => Promise<Response>;
  config: ConsoleConfig;
  status: AuthStatus;
  session: Session | null;
  /** Why the last session ended (a 401), shown on the sign-in screen. */
  notice: string | null;
  signInAsDevUser(): Promise<void>;
  sendMagicLink(email: string): Promise<void>;
  signOut(): Promise<void>;
}

/** The console config's query key: it is about the gateway, not the person, so it outlives sign-outs. */
export const CONFIG_KEY = ['console-config'] as const;

const SessionContext = createContext<SessionContextValue | null>(null);

export function useSession(): SessionContextValue {
  const value = useContext(SessionContext);
  if (!value) throw new Error('useSession outside SessionProvider');
  return value;
}

export function useApi(): Api {
  return useSession().api;
}

export function useConfig(): ConsoleConfig {
  return useSession().config;
}

export interface SessionProviderProps {
  config: ConsoleConfig;
  children: ReactNode;
  /** Tests: their fetch, and a session to start with. */
  fetch?: (request: Request) => Promise<Response>;
  initialSession?: Session | null;
}

/**
 * Who is signed in and the API client that speaks for them. The token comes from the development sign-in
 * (sessionStorage, this tab only) or from Supabase Auth's session (its access token, refreshed by
 * supabase-js); a 401 to a request that carried it ends the session.
 */
export function SessionProvider({ config, children, fetch, initialSession }: SessionProviderProps) {
  const [session, setSession] = useState<Session | null>(() => {
    if (initialSession !== undefined) return initialSession;
    const dev = config.auth.dev_login ? loadDevSession() : null;
    return dev ? { token: dev.token, userId: dev.user_id, email: null, source: 'dev' } : null;
  });
  const [status, setStatus] = useState<AuthStatus>(() =>
    session ? 'signed-in' : config.auth.supabase ? 'loading' : 'signed-out',
  );
  const [notice, setNotice] = useState<string | null>(null);
  const tokenRef = useRef<string | null>(session?.token ?? null);
  const sessionRef = useRef<Session | null>(session);
  const supabaseRef = useRef<SupabaseAuth | null>(null);
  const queryClient = useQueryClient();

  const apply = useCallback(
    (next: Session | null) => {
      // Another person (or nobody) from now on: nothing cached for the last one may show.
      if ((next?.userId ?? null) !== (sessionRef.current?.userId ?? null))
        queryClient.removeQueries({ predicate: (q) => q.queryKey[0] !== CONFIG_KEY[0] });
      sessionRef.current = next;
      tokenRef.current = next?.token ?? null;
      setSession(next);
      setStatus(next ? 'signed-in' : 'signed-out');
    },
    [queryClient],
  );

  const signOut = useCallback(async () => {
    clearDevSession();
    const supabase = supabaseRef.current;
    apply(null);
    if (supabase) await supabase.signOut().catch(() => undefined);
  }, [apply]);

  const api = useMemo(
    () =>
      createApiClient({
        getToken: () => tokenRef.current,
        onUnauthorized: () => {
          setNotice('Your session has ended. Sign in again.');
          void signOut();
        },
        ...(fetch ? { fetch } : {}),
      }),
    [fetch, signOut],
  );

  // Supabase: restore a stored session (or the one in a magic link's redirect) and follow refreshes.
  const supabaseConfig = config.auth.supabase;
  useEffect(() => {
    if (!supabaseConfig || initialSession !== undefined) return;
    let unsubscribe: (() => void) | undefined;
    let cancelled = false;
    loadSupabaseAuth(supabaseConfig.url, supabaseConfig.anon_key)
      .then(async (auth) => {
        if (cancelled) return;
        supabaseRef.current = auth;
        const toSession = (s: Awaited<ReturnType<SupabaseAuth['current']>>): Session | null =>
          s ? { token: s.token, userId: s.userId, email: s.email, source: 'supabase' } : null;
        unsubscribe = auth.subscribe((s) => {
          // A development session, when there is one, stays in charge.
          if (loadDevSession()) return;
          apply(toSession(s));
        });
        const current = await auth.current();
        if (!cancelled && !loadDevSession()) apply(toSession(current));
      })
      .catch(() => {
        if (!cancelled && !tokenRef.current) setStatus('signed-out');
      });
    return () => {
      cancelled = true;
      unsubscribe?.();
    };
  }, [supabaseConfig, apply, initialSession]);

  const signInAsDevUser = useCallback(async () => {
    const dev = await unwrap(api.POST('/v1/dev/session'));
    saveDevSession(dev);
    setNotice(null);
    apply({ token: dev.token, userId: dev.user_id, email: null, source: 'dev' });
  }, [api, apply]);

  const sendMagicLink = useCallback(async (email: string) => {
    const supabase = supabaseRef.current;
    if (!supabase) throw new Error('Supabase sign-in is not available.');
    await supabase.sendMagicLink(email, window.location.origin + window.location.pathname);
  }, []);

  const rawFetch = useCallback(
    (input: string, init?: RequestInit) =>
      fetch ? fetch(new Request(new URL(input, window.location.href), init)) : globalThis.fetch(input, init),
    [fetch],
  );
  const value = useMemo<SessionContextValue>(
    () => ({
      api,
      fetch: rawFetch,
      config,
      status,
      session,
      notice,
      signInAsDevUser,
      sendMagicLink,
      signOut,
    }),
    [api, rawFetch, config, status, session, notice, signInAsDevUser, sendMagicLink, signOut],
  );
  return <SessionContext.Provider value={value}>{children}</SessionContext.Provider>;
}
