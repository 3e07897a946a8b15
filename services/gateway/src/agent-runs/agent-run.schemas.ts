import { z } from 'zod';
import { FLOW_INPUT_SCHEMAS } from '@raptorflow/data/runs/flow-inputs';
import { instantQuery } from '@raptorflow/core/validation/date.schemas';
import { listQuerySchema } from '@raptorflow/core/validation/pagination';

const RUN_STATUSES = ['queued', 'running', 'awaiting_approval', 'completed', 'failed', 'cancelled'] as const;
const FLOWS = ['research', 'muse', 'matrix', 'guardian', 'campaign'] as const;
export const runStatusSchema = z.enum(RUN_STATUSES);
// The guard reads workspace_id from the query; strict query schemas must let it through.
const workspaceIdQuery = z.uuid().optional();

/** The agent decides the flow, so `input` is only an object here; its flow's schema checks it next. */
export const createRunBody = z.strictObject({
  agent: z.string().min(1).max(64).meta({ example: 'cognition' }),
  input: z.record(z.string(), z.unknown()),
  model: z
    .string()
    .min(1)
    .max(100)
    .optional()
    .meta({ description: "An alias (fast, standard, heavy) or a priced model id; default the agent's" }),
  flow: z
    .enum(FLOWS)
    .optional()
    .meta({ description: "The agent's default flow, or one it also runs (strategos: campaign)" }),
});

/** The documented request body: `input` as one of the flow inputs (validated against the agent's flow). */
export const createRunBodyDoc = createRunBody.extend({
  input: z
    .union([
      FLOW_INPUT_SCHEMAS.research.meta({ title: 'research input' }),
      FLOW_INPUT_SCHEMAS.muse.meta({ title: 'muse input' }),
      FLOW_INPUT_SCHEMAS.matrix.meta({ title: 'matrix input' }),
      FLOW_INPUT_SCHEMAS.guardian.meta({ title: 'guardian input' }),
      FLOW_INPUT_SCHEMAS.campaign.meta({ title: 'campaign input' }),
    ])
    .meta({
      description: "Checked against the input schema of the run's flow (the agent's default unless `flow`)",
    }),
});

export const runListQuery = z.strictObject({
  ...listQuerySchema.shape,
  status: runStatusSchema.optional(),
  agent: z.string().min(1).max(64).optional().meta({ description: 'An agent key, e.g. cognition' }),
  from: instantQuery.optional().meta({ description: 'created_at ≥ from' }),
  to: instantQuery.optional().meta({ description: 'created_at < to' }),
  workspace_id: workspaceIdQuery,
});
export type RunListQuery = z.output<typeof runListQuery>;

export const runStatsQuery = z.strictObject({
  from: instantQuery.optional().meta({ description: 'created_at ≥ from; default 30 days before `to`' }),
  to: instantQuery.optional().meta({ description: 'created_at < to; default now' }),
  workspace_id: workspaceIdQuery,
});

export const runIdParams = z.object({ id: z.uuid() });

/** `Last-Event-ID` (a reconnecting EventSource sends it) or `?last_event_id=`: an event row id. */
const eventId = z.string().regex(/^\d{1,15}$/, 'must be an event id (a non-negative integer)');
export const runEventsQuery = z.strictObject({
  last_event_id: eventId.optional(),
  workspace_id: workspaceIdQuery,
});
export const lastEventIdHeader = eventId;

const money = z.number().meta({ description: 'USD' });
const instant = z.iso.datetime();

export const runSchema = z.object({
  id: z.uuid(),
  agent: z.string().meta({ example: 'cognition' }),
  flow: z.enum(FLOWS),
  status: runStatusSchema,
  input: z.record(z.string(), z.unknown()),
  output: z.record(z.string(), z.unknown()).nullable(),
  error: z.object({ code: z.string(), message: z.string() }).nullable(),
  model: z.string().meta({ example: 'standard' }),
  cost_usd: money,
  input_tokens: z.number().int(),
  output_tokens: z.number().int(),
  duration_ms: z.number().int().nullable(),
  created_at: instant,
  started_at: instant.nullable(),
  completed_at: instant.nullable(),
  parent_run_id: z.uuid().nullable().meta({ description: "A campaign's child run: the campaign's id" }),
  stage: z
    .string()
    .nullable()
    .meta({ description: 'The campaign stage a child run is for', example: 'research' }),
});

export const runStepSchema = z.object({
  key: z.string().meta({ example: 'gather' }),
  position: z.number().int(),
  status: z.enum(['running', 'completed', 'failed']),
  model: z.string().nullable(),
  input_tokens: z.number().int(),
  output_tokens: z.number().int(),
  cost_usd: money,
  started_at: instant,
  completed_at: instant.nullable(),
  error: z.object({ code: z.string(), message: z.string() }).nullable(),
});

export const runCostSchema = z.object({
  id: z.uuid(),
  provider: z.string(),
  model: z.string(),
  outcome: z.enum(['success', 'failed', 'cancelled']),
  input_tokens: z.number().int(),
  output_tokens: z.number().int(),
  cost_usd: money,
  created_at: instant,
});

export const runChildSchema = z.object({
  id: z.uuid(),
  stage: z.string().meta({ example: 'research' }),
  agent: z.string(),
  flow: z.enum(FLOWS),
  status: runStatusSchema,
  cost_usd: money,
  created_at: instant,
  completed_at: instant.nullable(),
});

export const APPROVAL_DECISIONS = ['approve', 'reject', 'edit'] as const;

export const runApprovalSchema = z.object({
  id: z.uuid(),
  gate: z.string().meta({ example: 'approval' }),
  request: z
    .record(z.string(), z.unknown())
    .meta({ description: 'What the gate asks about: content, reason, violations' }),
  requested_at: instant,
  expires_at: instant,
  decision: z.enum([...APPROVAL_DECISIONS, 'expired']).nullable(),
  decided_by: z.uuid().nullable(),
  decided_at: instant.nullable(),
  edited_content: z.string().nullable(),
  note: z.string().nullable(),
});

export const runDetailSchema = runSchema.extend({
  steps: z.array(runStepSchema),
  costs: z.array(runCostSchema),
  children: z
    .array(runChildSchema)
    .meta({ description: "A campaign's child runs, one per stage, oldest first" }),
  approvals: z.array(runApprovalSchema).meta({ description: 'Approvals the run asked for, oldest first' }),
});

/** `content` is the edited text and only goes with `edit` (named in the 422 either way). */
export const approvalBody = z
  .strictObject({
    decision: z.enum(APPROVAL_DECISIONS),
    content: z.string().trim().min(1, 'must not be empty').max(50_000).optional(),
    note: z.string().trim().min(1, 'must not be empty').max(2_000).optional(),
  })
  .superRefine((b, ctx) => {
    if (b.decision === 'edit' && b.content === undefined)
      ctx.addIssue({ code: 'custom', path: ['content'], message: 'required when decision is edit' });
    if (b.decision !== 'edit' && b.content !== undefined)
      ctx.addIssue({ code: 'custom', path: ['content'], message: 'only allowed when decision is edit' });
  });

export const approvalDecidedSchema = z.object({
  id: z.uuid(),
  status: z.literal('running').meta({ description: 'Runnable again: a runner resumes it with the decision' }),
  approval: runApprovalSchema,
});

export const runAcceptedSchema = z.object({ id: z.uuid(), status: z.literal('queued') });
export const cancelRequestedSchema = z.object({
  id: z.uuid(),
  status: z.literal('running'),
  cancel_requested: z.literal(true),
});

export const runStatsSchema = z.object({
  from: instant,
  to: instant,
  total: z.number().int(),
  by_status: z.object(Object.fromEntries(RUN_STATUSES.map((s) => [s, z.number().int()]))),
  by_agent: z
    .array(
      z.object({
        agent: z.string(),
        total: z.number().int(),
        completed: z.number().int(),
        failed: z.number().int(),
        cancelled: z.number().int(),
        cost_usd: money.meta({ description: "The spend of the agent's runs in the window" }),
        last_run: z
          .object({ id: z.uuid(), status: runStatusSchema, created_at: instant })
          .nullable()
          .meta({ description: "The agent's newest run at any time (not only in the window); null if none" }),
      }),
    )
    .meta({
      description:
        'Every agent of the workspace (zeros included) and any other agent with runs in the window; busiest first',
    }),
  duration_ms: z.object({
    p50: z.number().nullable().meta({ description: 'Completed runs only; null when there are none' }),
    p95: z.number().nullable(),
  }),
  cost_usd: z.object({ total: money, per_run_avg: money.nullable() }),
});
