import { z } from 'zod';

export const roleSchema = z.enum(['owner', 'admin', 'member']);
export const workspaceIdParams = z.object({ workspace_id: z.uuid() });

export const createWorkspaceBody = z.strictObject({
  name: z.string().trim().min(1, 'must not be empty').max(200),
});

/** A rename follows the rules of a new name. */
export const updateWorkspaceBody = createWorkspaceBody;

export const workspaceSchema = z.object({
  id: z.uuid(),
  name: z.string(),
  role: roleSchema,
  created_at: z.iso.datetime(),
});
