import { z } from 'zod';
import { roleSchema } from '../workspaces/workspace.schemas';

export const memberParams = z.object({ workspace_id: z.uuid(), user_id: z.uuid() });
export const addMemberBody = z.strictObject({ user_id: z.uuid(), role: roleSchema.default('member') });
export const changeRoleBody = z.strictObject({ role: roleSchema });

export const memberSchema = z.object({
  user_id: z.uuid(),
  role: roleSchema,
  created_at: z.iso.datetime(),
  updated_at: z.iso.datetime(),
});
