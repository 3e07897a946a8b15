import { z } from 'zod';
import { dayQuery, monthQuery } from '@raptorflow/core/validation/date.schemas';

export const costSummaryQuery = z.strictObject({
  month: monthQuery
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
  alerts: z
    .array(
      z.object({
        threshold_percent: z.number().int(),
        spent_usd: z.number(),
        budget_usd: z.number(),
        fired_at: z.string(),
        delivered_at: z.string().nullable(),
      }),
    )
    .meta({ description: 'Budget thresholds (50/80/100 %) fired this month, each once' }),
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

export const dailyCostsQuery = z
  .strictObject({
    from: dayQuery.optional().meta({ description: 'First UTC day (default: 30 days before `to`)' }),
    to: dayQuery.optional().meta({ description: 'Last UTC day, inclusive (default: today)' }),
    workspace_id: z.uuid().optional(),
  })
  .transform((q, ctx) => {
    const to = q.to ?? new Date().toISOString().slice(0, 10);
    const from = q.from ?? new Date(Date.parse(to) - 29 * 86_400_000).toISOString().slice(0, 10);
    if (from > to) ctx.addIssue({ code: 'custom', path: ['from'], message: 'must not be after `to`' });
    else if (Date.parse(to) - Date.parse(from) > 366 * 86_400_000)
      ctx.addIssue({ code: 'custom', path: ['from'], message: 'the range is at most 366 days' });
    return { from, to };
  });

export const dailyCostsSchema = z.object({
  from: z.string(),
  to: z.string(),
  data: z.array(
    z.object({
      day: z.string().meta({ example: '2026-11-27' }),
      model: z.string(),
      calls: z.number().int(),
      input_tokens: z.number().int(),
      output_tokens: z.number().int(),
      spent_usd: z.number(),
    }),
  ),
});
