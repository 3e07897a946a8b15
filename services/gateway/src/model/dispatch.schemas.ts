import { z } from 'zod';

export const dispatchBody = z.strictObject({
  model: z
    .string()
    .min(1)
    .max(100)
    .meta({ description: 'An alias (`fast`, `standard`, `heavy`) or a priced model id', example: 'fast' }),
  messages: z
    .array(
      z.strictObject({
        role: z.enum(['user', 'assistant']),
        content: z.string().min(1, 'must not be empty'),
      }),
    )
    .min(1)
    .max(500)
    .refine((m) => m[0]?.role === 'user', 'the first message must be from the user'),
  system: z.string().min(1).optional(),
  max_tokens: z.number().int().min(1).max(1_000_000).optional().meta({
    description: "Output cap; the worst case reserved against the budget. Default 1024 (or the model's cap)",
  }),
});

export const usageSchema = z.object({
  input_tokens: z
    .number()
    .int()
    .meta({ description: 'Prompt tokens billed at the input price (cached excluded)' }),
  output_tokens: z.number().int(),
  cached_input_tokens: z.number().int(),
  cache_write_tokens: z.number().int(),
  thinking_tokens: z.number().int().meta({ description: 'Billed at the output price' }),
});

export const dispatchResult = z.object({
  text: z.string(),
  model: z.string().meta({ description: 'The model that answered (a fallback when the primary failed)' }),
  provider: z.enum(['gemini', 'anthropic', 'local']),
  alias: z.string().nullable(),
  usage: usageSchema,
  cost_usd: z.number().meta({ description: 'Exact to 1e-9 USD' }),
  cost_log_id: z.uuid(),
});
