import { z } from 'zod';

/** Building blocks of the endpoint declarations and the document built from them. */
export const errorSchema = z
  .object({
    error: z.object({
      code: z.string().meta({ example: 'validation_failed' }),
      message: z.string().meta({ example: 'Invalid request: body.name: must not be empty' }),
      details: z.unknown().optional(),
    }),
    correlation_id: z.string().meta({ example: '6f1c2a9e-1d4b-4e0a-9d1c-0f6a3b2c1d4e' }),
  })
  .meta({ id: 'Error' });

export const ERRORS: Record<number, string> = {
  400: 'Malformed JSON (`invalid_json`)',
  401: 'Missing, malformed, expired or forged token (`unauthenticated`)',
  403: 'Not a member of the workspace, or the role is too low (`permission_denied`)',
  404: 'Not found (`not_found`)',
  409: 'Conflicts with the current state (`conflict`)',
  413: 'Body larger than 1 MiB (`payload_too_large`)',
  422: 'Invalid input; `details.fields` lists the offending paths (`validation_failed`)',
  402: 'The workspace budget cannot take this call (`budget_exceeded`); details: budget, spent, reserved, requested',
  429: 'Rate limited (`rate_limited`); see `Retry-After`',
  503: 'Temporarily unavailable (`service_unavailable`); try again shortly',
  502: 'Every model of the chain failed (`model_unavailable`); details list the attempts',
  504: 'The model did not answer in time (`model_timeout`)',
};

export const list = <T extends z.ZodType>(item: T) =>
  z.object({ data: z.array(item), next_cursor: z.string().nullable() });
export const json = (schema: z.ZodType, description: string, example?: unknown) => ({
  description,
  content: { 'application/json': { schema, ...(example !== undefined ? { example } : {}) } },
});
export const workspaceHeader = z.object({
  'x-workspace-id': z
    .uuid()
    .optional()
    .meta({ description: 'Workspace to act in (else query, path, oldest membership)' }),
});
