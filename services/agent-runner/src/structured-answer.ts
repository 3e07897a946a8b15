import { z } from 'zod';
import { InvalidModelAnswerError } from '@raptorflow/core/errors/app-error';
import type { StepDispatchRequest, StepDispatchResult } from './flows/flow.types';
import type { ModelDispatchInput } from './tools/model-dispatch.tool';

/** What one Model Dispatch Tool call gave back, as the step needs it. */
export interface AnswerCall {
  text: string;
  model: string;
  costUsd: number;
}

/**
 * One Model Dispatch Tool call: `attempt` is 1 for the answer, 2 for its repair (the step runner streams
 * and accounts each).
 */
export type CallModel = (input: ModelDispatchInput, attempt: 1 | 2) => Promise<AnswerCall>;

interface Problem {
  path: string;
  message: string;
}

type Checked<T> = { ok: true; value: T } | { ok: false; problems: Problem[] };

// zod's JSON Schema of a step's schema, made once per schema object (the flows build theirs at load time).
const jsonSchemas = new WeakMap<z.ZodType, Record<string, unknown>>();

/** The JSON Schema sent to the provider: what `z.toJSONSchema` writes, without the `$schema` dialect tag. */
export function responseJsonSchema(schema: z.ZodType): Record<string, unknown> {
  let out = jsonSchemas.get(schema);
  if (!out) {
    const { $schema: _dialect, ...rest } = z.toJSONSchema(schema) as Record<string, unknown>;
    out = rest;
    jsonSchemas.set(schema, out);
  }
  return out;
}

/** `tasks[0].week` style, as zod's own error printer names a field; the whole answer is `(root)`. */
export function issuePath(path: readonly PropertyKey[]): string {
  if (path.length === 0) return '(root)';
  return path
    .map((k, i) => (typeof k === 'number' ? `[${k}]` : `${i === 0 ? '' : '.'}${String(k)}`))
    .join('');
}

function check<T>(text: string, schema: z.ZodType<T>): Checked<T> {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    const why = err instanceof Error ? err.message : String(err);
    return { ok: false, problems: [{ path: '(root)', message: `the answer is not JSON (${why})` }] };
  }
  const r = schema.safeParse(json);
  if (r.success) return { ok: true, value: r.data };
  return {
    ok: false,
    problems: r.error.issues.map((i) => ({ path: issuePath(i.path), message: i.message })),
  };
}

function repairPrompt(problems: readonly Problem[]): string {
  return [
    'Your answer above does not match the required JSON schema:',
    ...problems.slice(0, 20).map((p) => `- at ${p.path}: ${p.message}`),
    'Answer again with the complete corrected JSON only.',
  ].join('\n');
}

/**
 * A step's structured answer: asks for JSON of the step's zod schema (the providers' native structured
 * output) and validates it with that schema. An answer that fails is sent back once, with the errors, for a
 * repaired one; a second failure ends the step with `invalid_model_answer` naming the first failing path.
 */
export async function askForAnswer<T>(
  req: StepDispatchRequest<T>,
  model: string,
  call: CallModel,
): Promise<StepDispatchResult<T>> {
  const input: ModelDispatchInput = {
    model,
    prompt: req.prompt,
    system: req.system,
    max_tokens: req.maxTokens,
    response_schema: { name: req.schemaName, schema: responseJsonSchema(req.schema) },
  };
  const first = await call(input, 1);
  const checked = check(first.text, req.schema);
  if (checked.ok) return { answer: checked.value, ...first, repaired: false };

  const repair = await call(
    {
      ...input,
      history: [
        { role: 'user', content: req.prompt },
        { role: 'assistant', content: first.text },
      ],
      prompt: repairPrompt(checked.problems),
    },
    2,
  );
  const rechecked = check(repair.text, req.schema);
  if (rechecked.ok) {
    return {
      answer: rechecked.value,
      text: repair.text,
      model: repair.model,
      costUsd: first.costUsd + repair.costUsd,
      repaired: true,
    };
  }
  const [head] = rechecked.problems;
  throw new InvalidModelAnswerError(
    `The model's ${req.schemaName} answer did not match its schema after one repair: ${head!.path}: ${head!.message}`,
    { schema: req.schemaName, path: head!.path, issues: rechecked.problems.slice(0, 20) },
  );
}
