/**
 * Supabase Auth (email magic link), loaded on demand: @supabase/supabase-js is imported dynamically so it is
 * only downloaded by consoles configured with a Supabase project, never part of the initial bundle.
 */
export interface SupabaseSession {
  token: string;
  userId: string;
  email: string | null;
  expiresAt: string | null;
}

export interface SupabaseAuth {
  current(): Promise<SupabaseSession | null>;
  /** Called on sign-in, token refresh and sign-out (null). Returns an unsubscribe. */
  subscribe(listener: (s: SupabaseSession | null) => void): () => void;
  sendMagicLink(email: string, redirectTo: string): Promise<void>;
  signOut(): Promise<void>;
}

interface RawSession {
  access_token: string;
  expires_at?: number;
  user: { id: string; email?: string };
}

function toSession(s: RawSession | null | undefined): SupabaseSession | null {
  if (!s?.access_token) return null;
  return {
    token: s.access_token,
    userId: s.user.id,
    email: s.user.email ?? null,
    expiresAt: s.expires_at ? new Date(s.expires_at * 1000).toISOString() : null,
  };
}

export async function loadSupabaseAuth(url: string, anonKey: string): Promise<SupabaseAuth> {
  const { createClient } = await import('@supabase/supabase-js');
  const client = createClient(url, anonKey, {
    auth: { persistSession: true, autoRefreshToken: true, detectSessionInUrl: true, flowType: 'implicit' },
  });
  return {
    async current() {
      const { data } = await client.auth.getSession();
      return toSession(data.session as RawSession | null);
    },
    subscribe(listener) {
      const { data } = client.auth.onAuthStateChange((_event, session) =>
        listener(toSession(session as RawSession | null)),
      );
      return () => data.subscription.unsubscribe();
    },
    async sendMagicLink(email, redirectTo) {
      const { error } = await client.auth.signInWithOtp({ email, options: { emailRedirectTo: redirectTo } });
      if (error) throw new Error(error.message);
    },
    async signOut() {
      await client.auth.signOut();
    },
  };
}
