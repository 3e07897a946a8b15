import type { CallbackManagerForToolRun } from '@langchain/core/callbacks/manager';
import { isToolMessage } from '@langchain/core/messages';
import { patchConfig } from '@langchain/core/runnables';
import { StructuredTool, ToolInputParsingException } from '@langchain/core/tools';
import type { DynamicStructuredTool } from '@langchain/core/tools';
import type { StructuredToolCallInput, ToolReturnType, ToolRunnableConfig } from '@langchain/core/tools';
import type { AuditLogService } from '@raptorflow/data/domain/audit-log.service';
import type { AuditEntry } from '@raptorflow/data/domain/audit-log.service';
import type { AuditLogInsert } from '@raptorflow/data/repositories/audit-log.repository';
import { AppError } from '@raptorflow/core/errors/app-error';
import { getLogger } from '@raptorflow/core/logging/logger';
import { scrubSecrets } from '@raptorflow/core/logging/scrub';
import type { ToolContext } from './tool-context';

export const TOOL_CALL_ACTION = 'tool.call';
/** Longer strings in an audited input or output are cut: the audit log is a trail, not a transcript. */
export const AUDIT_STRING_LIMIT = 2_000;

export interface AuditedToolDeps {
  audit: AuditLogService;
}

/**
 * What a caller may put in a call's `configurable`: `deferAudit` takes the call's audit row (filled from the
 * context, as `record` would) instead of this tool writing it, and promises to write it itself; a run step
 * writes it in the statement that ends the step, saving a round trip per call.
 */
export interface AuditedToolConfigurable {
  deferAudit?: (row: AuditLogInsert) => void;
}

/**
 * A tool that behaves exactly like `inner` (same name, description, schema, output and errors) and writes
 * one `tool.call` audit row per invocation. `invoke` is the one entry point LangGraph, agents and our
 * flows use, so wrapping it (rather than `_call`) also records calls refused by schema parsing.
 */
export class AuditedTool<
  SchemaT = unknown,
  SchemaOutputT = unknown,
  SchemaInputT = unknown,
  ToolOutputT = unknown,
> extends StructuredTool<SchemaT, SchemaOutputT, SchemaInputT, ToolOutputT> {
  name: string;
  description: string;
  schema: SchemaT;

  static override lc_name(): string {
    return 'AuditedTool';
  }

  constructor(
    private readonly inner: StructuredTool<SchemaT, SchemaOutputT, SchemaInputT, ToolOutputT>,
    private readonly ctx: ToolContext,
    private readonly audit: AuditLogService,
  ) {
    super({ responseFormat: inner.responseFormat, metadata: inner.metadata });
    this.name = inner.name;
    this.description = inner.description;
    this.schema = inner.schema;
    this.returnDirect = inner.returnDirect;
  }

  override async invoke<
    TInput extends StructuredToolCallInput<SchemaT, SchemaInputT>,
    TConfig extends ToolRunnableConfig | undefined,
  >(input: TInput, config?: TConfig): Promise<ToolReturnType<TInput, TConfig, ToolOutputT>> {
    const started = performance.now();
    const args = isToolCallLike(input) ? input.args : input;
    const defer = (config?.configurable as AuditedToolConfigurable | undefined)?.deferAudit;
    const deferAudit = typeof defer === 'function' ? defer : undefined;
    let result: ToolReturnType<TInput, TConfig, ToolOutputT>;
    try {
      result = await super.invoke(input, config);
    } catch (err) {
      await this.record(args, undefined, started, deferAudit, err);
      throw err;
    }
    const output = isToolMessage(result) ? toolMessageOutput(result.content) : result;
    await this.record(args, output, started, deferAudit);
    return result;
  }

  protected async _call(
    arg: SchemaOutputT,
    runManager?: CallbackManagerForToolRun,
    parentConfig?: ToolRunnableConfig,
  ): Promise<ToolOutputT> {
    // The inner run nests under this one in traces; without the tool call it returns its raw output, not
    // a ToolMessage (this tool makes the message when it was called with one).
    const { toolCall: _toolCall, ...config } = patchConfig(parentConfig, {
      callbacks: runManager?.getChild(),
    });
    return (await this.inner.invoke(
      arg as StructuredToolCallInput<SchemaT, SchemaInputT>,
      config,
    )) as ToolOutputT;
  }

  private async record(
    input: unknown,
    output: unknown,
    started: number,
    deferAudit: ((row: AuditLogInsert) => void) | undefined,
    err?: unknown,
  ): Promise<void> {
    const ctx = this.ctx;
    const asAgent = Boolean(ctx.agent_run_id);
    const actorId = asAgent ? (ctx.agent_id ?? null) : (ctx.actor_user_id ?? null);
    const entry: AuditEntry = {
      action: TOOL_CALL_ACTION,
      workspaceId: ctx.workspace_id,
      // A call with no user and no run (a system job) is not attributed to a user it does not have.
      actorType: asAgent ? 'agent' : actorId ? 'user' : 'system',
      actorId,
      toolName: this.name,
      input: forAudit(input),
      output: err === undefined ? forAudit(output) : undefined,
      metadata: {
        duration_ms: Math.max(0, Math.round(performance.now() - started)),
        outcome: err === undefined ? 'success' : 'error',
        ...(err === undefined ? {} : { error_code: errorCode(err) }),
      },
      agentRunId: ctx.agent_run_id,
      correlationId: ctx.correlation_id,
    };
    try {
      if (deferAudit) deferAudit(this.audit.row(entry));
      else await this.audit.record(entry);
    } catch (auditErr) {
      // The call's effect (spend, a published event) already happened: failing it now would only make the
      // caller repeat it. The line carries the whole entry so the row can be restored.
      getLogger().error({ err: auditErr, audit_entry: entry }, 'could not write the tool.call audit row');
    }
  }
}

/** Wraps `tool` so every invocation writes exactly one `tool.call` audit row for `ctx`. */
export function withAudit<
  SchemaT,
  SchemaOutputT,
  SchemaInputT,
  ToolOutputT,
  ToolEventT,
  NameT extends string,
>(
  tool: DynamicStructuredTool<SchemaT, SchemaOutputT, SchemaInputT, ToolOutputT, ToolEventT, NameT>,
  ctx: ToolContext,
  deps: AuditedToolDeps,
): AuditedTool<SchemaT, SchemaOutputT, SchemaInputT, ToolOutputT>;
export function withAudit<SchemaT, SchemaOutputT, SchemaInputT, ToolOutputT>(
  tool: StructuredTool<SchemaT, SchemaOutputT, SchemaInputT, ToolOutputT>,
  ctx: ToolContext,
  deps: AuditedToolDeps,
): AuditedTool<SchemaT, SchemaOutputT, SchemaInputT, ToolOutputT>;
export function withAudit<SchemaT, SchemaOutputT, SchemaInputT, ToolOutputT>(
  tool: StructuredTool<SchemaT, SchemaOutputT, SchemaInputT, ToolOutputT>,
  ctx: ToolContext,
  deps: AuditedToolDeps,
): AuditedTool<SchemaT, SchemaOutputT, SchemaInputT, ToolOutputT> {
  return new AuditedTool(tool, ctx, deps.audit);
}

/** Strings scrubbed of secrets and cut to AUDIT_STRING_LIMIT, everywhere in a JSON-like value. */
export function forAudit(value: unknown, depth = 0): unknown {
  if (typeof value === 'string') {
    const s = scrubSecrets(value);
    return s.length > AUDIT_STRING_LIMIT
      ? `${s.slice(0, AUDIT_STRING_LIMIT)}…[truncated ${s.length - AUDIT_STRING_LIMIT} characters]`
      : s;
  }
  if (typeof value === 'bigint') return value.toString();
  if (value === null || typeof value !== 'object') return value;
  if (depth >= 20) return '[too deep]';
  if (Array.isArray(value)) return value.map((v) => forAudit(v, depth + 1));
  if (value instanceof Date) return value.toISOString();
  return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, forAudit(v, depth + 1)]));
}

function errorCode(err: unknown): string {
  if (err instanceof AppError) return err.code;
  if (err instanceof ToolInputParsingException) return 'invalid_tool_input';
  if (err instanceof Error && err.name === 'AbortError') return 'aborted';
  return 'internal_error';
}

function isToolCallLike(input: unknown): input is { args: unknown } {
  return (
    typeof input === 'object' &&
    input !== null &&
    (input as { type?: unknown }).type === 'tool_call' &&
    'args' in input
  );
}

/** A ToolMessage carries the output as JSON text; the audit row keeps it as JSON when it is. */
function toolMessageOutput(content: unknown): unknown {
  if (typeof content !== 'string') return content;
  try {
    return JSON.parse(content) as unknown;
  } catch {
    return content;
  }
}
