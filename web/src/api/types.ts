import type { components, paths } from './schema';

/** Names for the API's shapes, all from the generated schema (npm run gen:api). */
type S = components['schemas'];

export type Role = S['Workspace']['role'];
export type Workspace = S['Workspace'];
export type Member = S['Member'];
export type Budget = S['Budget'];
export type Guardrails = S['Guardrails'];
export type GuardrailRules = S['Guardrails']['rules'];
export type Agent = S['Agent'];
export type AgentRun = S['AgentRun'];
export type AgentRunDetail = S['AgentRunDetail'];
export type RunStep = S['AgentRunDetail']['steps'][number];
export type RunCost = S['AgentRunDetail']['costs'][number];
export type RunStatus = S['AgentRun']['status'];
export type AgentRunStats = S['AgentRunStats'];
export type AuditLog = S['AuditLog'];
export type CostSummary = S['CostSummary'];
export type DailyCosts = S['DailyCosts'];
export type MemoryItem = S['MemoryItem'];
export type MemoryKind = S['MemoryItem']['kind'];
export type MemorySearchResult = S['MemorySearchResult'];
export type MemorySearchHit = S['MemorySearchResult']['data'][number];

/** The JSON body of an operation's answer with `status`. */
export type JsonOf<
  P extends keyof paths,
  M extends keyof paths[P],
  Status extends number = 200,
> = paths[P][M] extends { responses: { [K in Status]: { content: { 'application/json': infer T } } } }
  ? T
  : never;

export type ConsoleConfig = JsonOf<'/v1/console/config', 'get'>;
export type ModelAliasInfo = ConsoleConfig['models']['aliases'][number];
export type Flow = JsonOf<'/v1/flows', 'get'>['data'][number];
export type DevSession = JsonOf<'/v1/dev/session', 'post'>;
export type AgentStats = AgentRunStats['by_agent'][number];

export const RUN_STATUSES: readonly RunStatus[] = [
  'queued',
  'running',
  'awaiting_approval',
  'completed',
  'failed',
  'cancelled',
];
export const TERMINAL_STATUSES: readonly RunStatus[] = ['completed', 'failed', 'cancelled'];
export const MEMORY_KINDS: readonly MemoryKind[] = ['fact', 'finding', 'brief', 'brand', 'decision', 'asset'];
export const ROLES: readonly Role[] = ['owner', 'admin', 'member'];

const RANK: Record<Role, number> = { member: 1, admin: 2, owner: 3 };

/** owner > admin > member, as the gateway's guards order them. */
export function roleAtLeast(role: Role | null | undefined, needed: Role): boolean {
  return role ? RANK[role] >= RANK[needed] : false;
}
