import { z } from 'zod';
import { instantQuery } from '@raptorflow/core/validation/date.schemas';
import { listQuerySchema } from '@raptorflow/core/validation/pagination';

export const auditLogQuery = listQuerySchema.extend({
  action: z.string().min(1).max(100).optional(),
  actor_id: z.string().min(1).max(200).optional(),
  actor_type: z.enum(['user', 'agent', 'system', 'service']).optional(),
  resource_type: z.string().min(1).max(100).optional(),
  resource_id: z.string().min(1).max(200).optional(),
  tool_name: z.string().min(1).max(100).optional(),
  correlation_id: z.string().min(1).max(128).optional(),
  from: instantQuery.optional(),
  to: instantQuery.optional(),
});
export type AuditLogQuery = z.output<typeof auditLogQuery>;

export const auditLogSchema = z.object({
  id: z.uuid(),
  actor_type: z.enum(['user', 'agent', 'system', 'service']),
  actor_id: z.string().nullable(),
  action: z.string(),
  resource_type: z.string().nullable(),
  resource_id: z.string().nullable(),
  tool_name: z.string().nullable(),
  input: z.unknown(),
  output: z.unknown(),
  metadata: z.record(z.string(), z.unknown()),
  agent_run_id: z.uuid().nullable(),
  event_id: z.uuid().nullable(),
  correlation_id: z.string().nullable(),
  created_at: z.iso.datetime(),
});
