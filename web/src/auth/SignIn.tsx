import { useId, useState } from 'react';
import type { FormEvent } from 'react';
import { useSession } from '../app/session';
import { ErrorState } from '../components/States';

/**
 * Sign-in: Supabase Auth's email magic link when the gateway names a Supabase project, and the development
 * user (POST /v1/dev/session) when the gateway offers it (development, on this machine only).
 */
export function SignIn() {
  const { config, notice, signInAsDevUser, sendMagicLink } = useSession();
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const [sentTo, setSentTo] = useState<string | null>(null);
  const [email, setEmail] = useState('');
  const emailId = useId();
  const supabase = config.auth.supabase;
  const dev = config.auth.dev_login;

  async function devLogin() {
    setBusy(true);
    setError(null);
    try {
      await signInAsDevUser();
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  }

  async function magicLink(e: FormEvent) {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      await sendMagicLink(email.trim());
      setSentTo(email.trim());
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  }

  return (
    <div className="page sign-in">
      <h1>Sign in to RaptorFlow</h1>
      <p className="lead">The Council of Lords researches, plans, writes and checks your marketing.</p>
      {notice && <p className="notice">{notice}</p>}
      {supabase && (
        <section aria-labelledby={`${emailId}-h`} className="card">
          <h2 id={`${emailId}-h`}>Email sign-in</h2>
          {sentTo ? (
            <p>
              We sent a sign-in link to <strong>{sentTo}</strong>. Open it on this device to continue.
            </p>
          ) : (
            <form onSubmit={(e) => void magicLink(e)} className="form">
              <div className="field">
                <label htmlFor={emailId}>Email address</label>
                <input
                  id={emailId}
                  type="email"
                  autoComplete="email"
                  required
                  value={email}
                  onChange={(e) => setEmail(e.target.value)}
                />
              </div>
              <button type="submit" className="button" disabled={busy}>
                Email me a sign-in link
              </button>
            </form>
          )}
        </section>
      )}
      {dev && (
        <section aria-labelledby={`${emailId}-dev`} className="card">
          <h2 id={`${emailId}-dev`}>Development</h2>
          <p className="muted">
            This gateway runs in {config.environment} on this machine and can sign you in as a development
            user.
          </p>
          <button type="button" className="button" disabled={busy} onClick={() => void devLogin()}>
            Continue as the development user
          </button>
        </section>
      )}
      {!supabase && !dev && (
        <p>
          No sign-in method is configured on this gateway: give it a Supabase project (see
          docs/configuration.md).
        </p>
      )}
      {error !== null && <ErrorState error={error} title="Could not sign in" />}
    </div>
  );
}
