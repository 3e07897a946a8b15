import type { DevSession } from '../api/types';

/** The development sign-in's token lives for this tab only (sessionStorage), never in localStorage. */
export const DEV_SESSION_KEY = 'raptorflow.dev-session';

export function loadDevSession(now = Date.now()): DevSession | null {
  try {
    const raw = sessionStorage.getItem(DEV_SESSION_KEY);
    if (!raw) return null;
    const s = JSON.parse(raw) as Partial<DevSession>;
    if (typeof s.token !== 'string' || typeof s.user_id !== 'string') return null;
    if (typeof s.expires_at === 'string' && Date.parse(s.expires_at) <= now) {
      sessionStorage.removeItem(DEV_SESSION_KEY);
      return null;
    }
    return s as DevSession;
  } catch {
    return null;
  }
}

export function saveDevSession(s: DevSession): void {
  sessionStorage.setItem(DEV_SESSION_KEY, JSON.stringify(s));
}

export function clearDevSession(): void {
  sessionStorage.removeItem(DEV_SESSION_KEY);
}
