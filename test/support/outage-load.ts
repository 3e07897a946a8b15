/**
 * Steady API traffic for outage tests: lanes that keep sending one kind of request (create a workspace, start
 * a research run, dispatch a model call) and record every answer with its start and end time, so a test can
 * ask what was answered before, during and after an outage, and which accepted requests it must find done.
 */
export type OpKind = 'create' | 'run' | 'dispatch';
export const OP_KINDS: readonly OpKind[] = ['create', 'run', 'dispatch'];

export interface Outcome {
  kind: OpKind;
  started: number;
  ended: number;
  status?: number;
  body?: any;
  error?: string;
}

/** What each kind answers when accepted. */
export const ACCEPTED: Record<OpKind, number> = { create: 201, run: 202, dispatch: 200 };

export interface OutageLoadOptions {
  gatewayUrl: string;
  token: string;
  /** The seeded workspace runs and dispatches go to. */
  workspaceId: string;
  /** Lanes per kind. */
  lanes: Record<OpKind, number>;
  /** One request per lane this often (an outage answers 503 at once: a lane must not spin). */
  paceMs: number;
  /** Requests of one lane waiting for their answers at most (default 20); the lane pauses beyond that. */
  maxInFlight?: number;
  requestTimeoutMs: number;
}

export class OutageLoad {
  readonly outcomes: Outcome[] = [];
  private stopped = false;
  private lanes: Promise<void>[] = [];
  private seq = 0;

  constructor(private readonly o: OutageLoadOptions) {}

  start(): void {
    for (const kind of OP_KINDS)
      for (let i = 0; i < this.o.lanes[kind]; i++) this.lanes.push(this.lane(kind));
  }

  /** Stops sending; resolves once every request in flight has been answered. */
  async stop(): Promise<Outcome[]> {
    this.stopped = true;
    await Promise.all(this.lanes);
    return this.outcomes;
  }

  /** Answers of `kind` with `status` that started at or after `from` and ended at or before `to`. */
  count(kind: OpKind, status: number, from = 0, to = Infinity): number {
    return this.outcomes.filter(
      (o) => o.kind === kind && o.status === status && o.started >= from && o.ended <= to,
    ).length;
  }

  /** `kind status×count` per answer kind, and the last unexpected answer of each kind: for failure messages. */
  summary(): string {
    const counts = new Map<string, number>();
    const odd = new Map<string, string>();
    for (const o of this.outcomes) {
      const key = `${o.kind} ${o.status ?? 'error'}`;
      counts.set(key, (counts.get(key) ?? 0) + 1);
      if (o.status !== ACCEPTED[o.kind]) odd.set(o.kind, o.error ?? JSON.stringify(o.body).slice(0, 300));
    }
    return [...[...counts].map(([k, n]) => `${k}×${n}`), ...[...odd].map(([k, v]) => `last ${k}: ${v}`)].join(
      '\n',
    );
  }

  /**
   * Open loop: a request every `paceMs` whether or not the previous one was answered (up to `maxInFlight`),
   * so a request held across the outage (a dispatch whose record waits for the database) does not stop the
   * lane from sending new ones that must be refused.
   */
  private async lane(kind: OpKind): Promise<void> {
    const inFlight = new Set<Promise<void>>();
    while (!this.stopped) {
      if (inFlight.size < (this.o.maxInFlight ?? 20)) {
        const p: Promise<void> = this.send(kind, Date.now()).then((o) => {
          this.outcomes.push(o);
          inFlight.delete(p);
        });
        inFlight.add(p);
      }
      await new Promise((r) => setTimeout(r, this.o.paceMs));
    }
    await Promise.all(inFlight);
  }

  private request(kind: OpKind): { path: string; body: unknown; workspace: boolean } {
    const n = ++this.seq;
    if (kind === 'create')
      return { path: '/v1/workspaces', body: { name: `pg-outage-${n}` }, workspace: false };
    if (kind === 'run')
      return {
        path: '/v1/agent-runs',
        body: { agent: 'cognition', input: { topic: `oat milk, angle ${n}` } },
        workspace: true,
      };
    return {
      path: '/v1/model/dispatch',
      body: { model: 'fast', messages: [{ role: 'user', content: `Tagline ${n} for a bakery` }] },
      workspace: true,
    };
  }

  private async send(kind: OpKind, started: number): Promise<Outcome> {
    const r = this.request(kind);
    try {
      const res = await fetch(`${this.o.gatewayUrl}${r.path}`, {
        method: 'POST',
        headers: {
          authorization: `Bearer ${this.o.token}`,
          'content-type': 'application/json',
          ...(r.workspace ? { 'x-workspace-id': this.o.workspaceId } : {}),
        },
        body: JSON.stringify(r.body),
        signal: AbortSignal.timeout(this.o.requestTimeoutMs),
      });
      const text = await res.text();
      let body: unknown = text;
      try {
        body = JSON.parse(text);
      } catch {
        /* stays text: the shape check reports it */
      }
      return { kind, started, ended: Date.now(), status: res.status, body };
    } catch (err) {
      const e = err as Error & { cause?: { code?: string } };
      return { kind, started, ended: Date.now(), error: `${e.name}: ${e.message} ${e.cause?.code ?? ''}` };
    }
  }
}

/** An answer that is neither the accepted status with an id nor a 503 in the error shape. */
export function isUnclean(o: Outcome): boolean {
  if (o.error || o.status === undefined) return true;
  if (o.status === ACCEPTED[o.kind])
    return typeof (o.kind === 'dispatch' ? o.body?.cost_log_id : o.body?.id) !== 'string';
  return !(
    o.status === 503 &&
    o.body?.error?.code === 'service_unavailable' &&
    typeof o.body?.correlation_id === 'string'
  );
}

/** The ids of accepted answers of one kind (workspace, run or cost row ids). */
export function acceptedIds(outcomes: Outcome[], kind: OpKind): string[] {
  return outcomes
    .filter((o) => o.kind === kind && o.status === ACCEPTED[kind])
    .map((o) => (kind === 'dispatch' ? o.body.cost_log_id : o.body.id) as string);
}
