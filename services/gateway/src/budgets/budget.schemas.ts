import { z } from 'zod';

export const putBudgetBody = z.strictObject({
  monthly_budget_usd: z
    .number()
    .min(0)
    .max(1_000_000)
    .refine((v) => Number.isFinite(v) && Math.round(v * 1e6) / 1e6 === v, 'at most 6 decimal places'),
});

export const budgetSchema = z.object({
  workspace_id: z.uuid(),
  monthly_budget_usd: z.number(),
  source: z.enum(['workspace', 'default']),
  updated_at: z.iso.datetime().nullable(),
});
