import { z } from 'zod';

export const costSummaryQuery = z.strictObject({
  month: z
    .string()
    .regex(/^\d{4}-(0[1-9]|1[0-2])$/, 'must be YYYY-MM')
    .optional()
    .meta({ description: 'UTC calendar month; default the current one', example: '2026-11' }),
  workspace_id: z.uuid().optional(),
});

export const costSummarySchema = z.object({
  month: z.string().meta({ example: '2026-11' }),
  budget_usd: z.number(),
  spent_usd: z.number(),
  reserved_usd: z.number().meta({ description: 'Held by model calls in flight (their worst case)' }),
  remaining_usd: z.number().meta({ description: 'budget − spent − reserved, never below 0' }),
  percent_used: z.number().meta({ description: 'spent / budget × 100, two decimals' }),
  by_model: z.array(
    z.object({
      model: z.string(),
      calls: z.number().int(),
      input_tokens: z.number().int(),
      output_tokens: z.number().int(),
      spent_usd: z.number(),
    }),
  ),
});
