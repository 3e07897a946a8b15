import type { ReactNode } from 'react';
import { isApiError } from '../api/errors';

/** Loading text, announced politely (not a `status` role: the run page keeps that for the run's status). */
export function Loading({ label = 'Loading…' }: { label?: string }) {
  return (
    <p className="state state-loading" aria-live="polite" aria-busy="true">
      <span className="spinner" aria-hidden="true" />
      {label}
    </p>
  );
}

export function Empty({ children }: { children: ReactNode }) {
  return <p className="state state-empty">{children}</p>;
}

/**
 * An API error as people need it: what the server said (`error.message`) and the correlation id to quote
 * (from the body, or the X-Correlation-Id header when the body had none).
 */
export function ErrorState({
  error,
  title = 'Something went wrong',
  onRetry,
}: {
  error: unknown;
  title?: string;
  onRetry?: () => void;
}) {
  const message = error instanceof Error ? error.message : String(error);
  const correlationId = isApiError(error) ? error.correlationId : null;
  const code = isApiError(error) ? error.code : null;
  return (
    <div className="state state-error" role="alert">
      <p className="state-title">{title}</p>
      <p>{message}</p>
      {(correlationId || code) && (
        <p className="muted small">
          {code && (
            <>
              Code <code>{code}</code>
            </>
          )}
          {code && correlationId && ' · '}
          {correlationId && (
            <>
              Correlation id <code data-testid="correlation-id">{correlationId}</code>
            </>
          )}
        </p>
      )}
      {onRetry && (
        <button type="button" className="button secondary" onClick={onRetry}>
          Try again
        </button>
      )}
    </div>
  );
}

interface QueryLike<T> {
  data: T | undefined;
  error: unknown;
  isPending: boolean;
  refetch: () => unknown;
}

/** Loading, error (with retry) or the content of one query. */
export function QueryView<T>({
  query,
  loading,
  children,
}: {
  query: QueryLike<T>;
  loading?: string;
  children: (data: T) => ReactNode;
}) {
  if (query.isPending) return <Loading {...(loading ? { label: loading } : {})} />;
  if (query.error || query.data === undefined)
    return <ErrorState error={query.error ?? 'No data'} onRetry={() => void query.refetch()} />;
  return <>{children(query.data)}</>;
}
