import { interrupt } from '@langchain/langgraph';
import type { LangGraphRunnableConfig } from '@langchain/langgraph';
import { z } from 'zod';
import { AppError } from '@raptorflow/core/errors/app-error';
import type { GuardrailRules } from '@raptorflow/data/runs/flow-inputs';
import { runtimeOf } from './flow-runtime';
import type { GuardianResult } from './guardrail-check';

/** What a gate asks a human (stored as the approval's `request`, shown by the API). */
export interface ApprovalRequest {
  gate: string;
  reason: 'flagged' | 'required';
  content: string;
  violations: GuardianResult['violations'];
}

/** What the runner resumes a gate with: the decision recorded through `POST /v1/agent-runs/:id/approval`. */
export interface ApprovalResume {
  decision: 'approve' | 'reject' | 'edit';
  content?: string | null;
  decided_by: string | null;
  note?: string | null;
}

export const approvalOutcomeSchema = z.object({
  decision: z.enum(['approve', 'edit']),
  decided_by: z.string().nullable(),
  note: z.string().nullable(),
  /** The content that goes on: the reviewed one, or the reviewer's edit. */
  content: z.string(),
});
export type ApprovalOutcome = z.output<typeof approvalOutcomeSchema>;

/** The reviewer said no: the run ends `failed` with this code (a domain failure, never retried). */
export class ApprovalRejectedError extends AppError {
  constructor(gate: string, note: string | null | undefined) {
    super('approval_rejected', 422, `The content was rejected at the ${gate} gate${note ? `: ${note}` : ''}`);
  }
}

/** A human must look when the Arbiter flagged the content, or when the workspace asks to see everything. */
export function needsApproval(
  check: GuardianResult | undefined,
  rules: GuardrailRules,
): ApprovalRequest['reason'] | null {
  if (check?.verdict === 'fail') return 'flagged';
  return rules.require_approval ? 'required' : null;
}

/**
 * The approval gate, for a flow's node: when the content needs a human, the graph stops here with a LangGraph
 * `interrupt` (checkpointed), the runner pauses the run as `awaiting_approval` holding no lease or slot, and a
 * decision resumes it with `Command({resume})`: this call then returns (approve, edit) or throws (reject).
 * Returns null when no approval is needed. A node re-runs from its start on resume, so everything before the
 * gate in the node must be deterministic and free (it is: the check is stored in the state before the node).
 */
export function approvalGate(
  config: LangGraphRunnableConfig,
  gate: string,
  content: string,
  check: GuardianResult | undefined,
): ApprovalOutcome | null {
  const reason = needsApproval(check, runtimeOf(config).guardrails);
  if (!reason) return null;
  const request: ApprovalRequest = { gate, reason, content, violations: check?.violations ?? [] };
  const resume = interrupt<ApprovalRequest, ApprovalResume>(request);
  if (resume.decision === 'reject') throw new ApprovalRejectedError(gate, resume.note);
  return {
    decision: resume.decision,
    decided_by: resume.decided_by,
    note: resume.note ?? null,
    content: resume.decision === 'edit' && resume.content ? resume.content : content,
  };
}
