import { z } from 'zod';

const dependency = z.object({
  status: z.enum(['ok', 'down']),
  latency_ms: z.number(),
  error: z.string().optional(),
});

const model = z.object({
  model: z.string(),
  provider: z.string(),
  mode: z.enum(['live', 'local']),
  retires_on: z.string().nullable(),
  retired: z.boolean(),
});

/** HealthService's report (@raptorflow/core/health/health.service), as /health answers it. */
export const healthReportSchema = z.object({
  status: z.enum(['ok', 'degraded', 'down']),
  service: z.string().meta({ example: 'gateway' }),
  environment: z.string(),
  checks: z.object({
    redis: dependency,
    database: dependency,
    vertex_ai: z.object({ configured: z.boolean(), project: z.string().optional(), location: z.string() }),
    anthropic: z.object({ configured: z.boolean() }),
    models: z.enum(['live', 'local', 'mixed']),
    aliases: z.array(model.extend({ alias: z.string(), chain: z.array(model) })),
    memory: z
      .object({ search_path: z.enum(['pgvector', 'exact']) })
      .optional()
      .meta({
        description: 'pgvector: HNSW index; exact: a scan of the workspace (no pgvector on the server)',
      }),
  }),
  uptime_s: z.number(),
});

export const liveSchema = z.object({ status: z.literal('ok') });
