import { z } from 'zod';
import { roleSchema } from '../workspaces/workspace.schemas';

// Ids are compared and stored in lower case everywhere (a token's `sub` is lower-cased at authentication too),
// so `/members/6F68…` and `/members/6f68…` are one member, and audit rows name it one way.
const userId = z.uuid().transform((id) => id.toLowerCase());

export const memberParams = z.object({ workspace_id: z.uuid(), user_id: userId });
export const addMemberBody = z.strictObject({ user_id: userId, role: roleSchema.default('member') });
export const changeRoleBody = z.strictObject({ role: roleSchema });

export const memberSchema = z.object({
  user_id: z.uuid(),
  role: roleSchema,
  created_at: z.iso.datetime(),
  updated_at: z.iso.datetime(),
});
