import { z } from 'zod';
import { LORD_KEYS } from '@raptorflow/data/domain/council-of-lords';
import { MEMORY_KINDS } from '@raptorflow/data/repositories/memory-item.rows';
import { instantQuery } from '@raptorflow/core/validation/date.schemas';
import { listQuerySchema } from '@raptorflow/core/validation/pagination';

// The guard reads workspace_id from the query; strict query schemas must let it through.
const workspaceIdQuery = z.uuid().optional();

export const MAX_MEMORY_CONTENT = 8_000;
export const MAX_MEMORY_BATCH = 100;
/** Metadata is for filtering and provenance, not a second content field. */
const MAX_METADATA_BYTES = 8_192;

const lordKey = z.enum(LORD_KEYS as [string, ...string[]]);
const kind = z.enum(MEMORY_KINDS).meta({ description: MEMORY_KINDS.join(' | ') });
const content = z
  .string()
  .max(MAX_MEMORY_CONTENT, `must be at most ${MAX_MEMORY_CONTENT} characters`)
  .refine((s) => s.trim().length > 0, 'must not be empty');
const subject = z
  .string()
  .max(200)
  .refine((s) => s.trim().length > 0, 'must not be empty')
  .meta({ description: 'What the item is about; a new item on the same subject closes the current one' });
const metadata = z
  .record(z.string().max(100), z.unknown())
  .refine(
    (m) => Buffer.byteLength(JSON.stringify(m)) <= MAX_METADATA_BYTES,
    `must be at most ${MAX_METADATA_BYTES} bytes as JSON`,
  );
const instant = instantQuery;

export const memoryItemBody = z.strictObject({
  agent: lordKey
    .nullable()
    .optional()
    .meta({ description: "A Lord's key (its own memory); omitted or null: shared by the whole Council" }),
  kind,
  subject: subject.optional(),
  content,
  metadata: metadata.optional(),
  valid_from: instant.optional().meta({ description: 'When it became true; default now' }),
});

export const memoryBatchBody = z.strictObject({
  items: z.array(memoryItemBody).min(1).max(MAX_MEMORY_BATCH),
});

/** One item, or `{items: […]}`: which one is decided by the `items` key, so errors name the right fields. */
export const writeMemoryBody = z.unknown().transform((value, ctx) => {
  const batch = typeof value === 'object' && value !== null && !Array.isArray(value) && 'items' in value;
  const parsed = (batch ? memoryBatchBody : memoryItemBody).safeParse(value);
  if (parsed.success) return parsed.data;
  for (const issue of parsed.error.issues)
    ctx.addIssue({ code: 'custom', message: issue.message, path: issue.path });
  return z.NEVER;
});
export const writeMemoryBodyDoc = z.union([memoryItemBody, memoryBatchBody]);

/** `shared` = the Council's items (no Lord); a Lord's key = that Lord's own items. */
const agentFilter = z
  .union([lordKey, z.literal('shared')])
  .meta({ description: "A Lord's key, or `shared` for the Council's items" });

export const memoryListQuery = z.strictObject({
  ...listQuerySchema.shape,
  agent: agentFilter.optional(),
  kind: kind.optional(),
  subject: z.string().min(1).max(200).optional(),
  source_run_id: z.uuid().optional(),
  as_of: instant.optional().meta({ description: 'Items valid at that instant; default now' }),
  history: z
    .enum(['true', 'false'])
    .optional()
    .meta({ description: '`true`: every version, superseded ones included (as_of is then ignored)' }),
  workspace_id: workspaceIdQuery,
});

export const memorySearchBody = z.strictObject({
  query: z
    .string()
    .max(2_000)
    .refine((s) => s.trim().length > 0, 'must not be empty'),
  k: z.number().int().min(1).max(100).default(10),
  agent: agentFilter.optional(),
  kind: z.union([kind, z.array(kind).min(1).max(MEMORY_KINDS.length)]).optional(),
  as_of: instant.optional().meta({ description: 'Search what was valid at that instant; default now' }),
  metadata: metadata.optional().meta({ description: 'Only items whose metadata contains this object' }),
});

export const memoryPatchBody = z
  .strictObject({
    content: content.optional(),
    metadata: metadata.optional(),
    valid_from: instant.optional(),
    valid_to: instant.nullable().optional().meta({ description: 'null reopens the item' }),
  })
  .refine((b) => Object.keys(b).length > 0, 'must change content, metadata, valid_from or valid_to');

export const memoryIdParams = z.object({ id: z.uuid() });

export const forgetRunQuery = z.strictObject({
  source_run_id: z.uuid(),
  workspace_id: workspaceIdQuery,
});

const isoInstant = z.iso.datetime();
export const memoryItemSchema = z.object({
  id: z.uuid(),
  agent: z.string().nullable(),
  kind,
  subject: z.string().nullable(),
  content: z.string(),
  metadata: z.record(z.string(), z.unknown()),
  valid_from: isoInstant,
  valid_to: isoInstant.nullable(),
  source_run_id: z.uuid().nullable(),
  created_by: z.uuid().nullable(),
  embedding_model: z.string().meta({ example: 'gemini:gemini-embedding-001' }),
  created_at: isoInstant,
  updated_at: isoInstant,
});

export const writtenItemSchema = memoryItemSchema.extend({
  superseded: z.uuid().nullable().meta({ description: 'The item this one closed (same subject)' }),
});

export const memoryHitSchema = memoryItemSchema.extend({
  score: z.number().meta({ description: 'Reciprocal rank fusion of the vector and full-text ranks' }),
  similarity: z.number().nullable().meta({ description: 'Cosine similarity to the query' }),
  text_rank: z.number().nullable().meta({ description: 'PostgreSQL full-text rank; null: no word matched' }),
});

export const memorySearchResultSchema = z.object({
  data: z.array(memoryHitSchema),
  path: z.enum(['pgvector', 'exact']),
  embedding_model: z.string(),
});

export const forgetResultSchema = z.object({ deleted: z.number().int().min(0) });
