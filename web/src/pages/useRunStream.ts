import { useEffect, useRef, useState } from 'react';
import { streamEvents } from '../api/sse';
import type { SseMessage, StreamState } from '../api/sse';
import { TERMINAL_STATUSES } from '../api/types';
import type { RunStatus } from '../api/types';
import { useSession } from '../app/session';

/** One event of a run's stream (`data` of GET /v1/agent-runs/:id/events). */
export interface RunEvent {
  id: string | null;
  type: string;
  status?: RunStatus;
  step?: string;
  position?: number;
  cost_usd?: number;
  run_cost_usd?: number;
  duration_ms?: number | null;
  resumed?: boolean;
  error?: { code: string; message: string };
  at?: string;
}

export type Connection = 'idle' | StreamState | 'closed';

export function parseRunEvent(m: SseMessage): RunEvent | null {
  try {
    const data = JSON.parse(m.data) as Record<string, unknown>;
    return { ...(data as Omit<RunEvent, 'id'>), id: m.id, type: (data.type as string) ?? m.event };
  } catch {
    return null;
  }
}

export function isTerminalMessage(m: SseMessage): boolean {
  if (m.event !== 'status') return false;
  const e = parseRunEvent(m);
  return !!e?.status && TERMINAL_STATUSES.includes(e.status);
}

/**
 * Follows a run's events while `enabled`: the bearer token and workspace go in headers (hence fetch, not
 * EventSource), a dropped stream resumes after the last event seen, and the stream stops at the run's end or
 * when the page goes away.
 */
export function useRunStream(opts: {
  workspaceId: string;
  runId: string;
  enabled: boolean;
  onEvent: (e: RunEvent) => void;
  /** The stream stopped (the run ended, nothing was left, or an error): time to read the run again. */
  onEnd?: () => void;
}) {
  const { session, fetch: sessionFetch } = useSession();
  const tokenRef = useRef(session?.token ?? null);
  tokenRef.current = session?.token ?? null;
  const onEventRef = useRef(opts.onEvent);
  onEventRef.current = opts.onEvent;
  const onEndRef = useRef(opts.onEnd);
  onEndRef.current = opts.onEnd;
  const [events, setEvents] = useState<RunEvent[]>([]);
  const [connection, setConnection] = useState<Connection>('idle');
  const [error, setError] = useState<unknown>(null);
  const lastIdRef = useRef<string | null>(null);
  const { workspaceId, runId, enabled } = opts;

  useEffect(() => {
    setEvents([]);
    lastIdRef.current = null;
  }, [runId]);

  useEffect(() => {
    if (!enabled) return;
    const ac = new AbortController();
    setError(null);
    void streamEvents({
      url: `/v1/agent-runs/${encodeURIComponent(runId)}/events`,
      headers: () => ({
        ...(tokenRef.current ? { Authorization: `Bearer ${tokenRef.current}` } : {}),
        'X-Workspace-Id': workspaceId,
      }),
      lastEventId: lastIdRef.current,
      fetch: sessionFetch as typeof fetch,
      signal: ac.signal,
      isTerminal: isTerminalMessage,
      onStateChange: setConnection,
      onMessage: (m) => {
        const e = parseRunEvent(m);
        if (!e) return;
        lastIdRef.current = m.id;
        setEvents((old) => [...old, e]);
        onEventRef.current(e);
      },
    }).then((end) => {
      if (ac.signal.aborted) return;
      setConnection('closed');
      if (end.reason === 'error') setError(end.error);
      onEndRef.current?.();
    });
    return () => ac.abort();
  }, [enabled, runId, workspaceId, sessionFetch]);

  return { events, connection, error };
}
