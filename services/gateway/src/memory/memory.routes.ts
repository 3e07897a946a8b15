import type { Request } from 'express';
import { toPage } from '@raptorflow/core/validation/pagination';
import type { CursorCodec } from '@raptorflow/core/validation/pagination';
import type { MemoryKind } from '@raptorflow/data/repositories/memory-item.rows';
import type { MemoryActor, MemoryInput, MemoryService } from '@raptorflow/memory/memory.service';
import { endpointFactory } from '../http/endpoint';
import { list } from '../openapi/openapi.helpers';
import {
  forgetResultSchema,
  forgetRunQuery,
  memoryIdParams,
  memoryItemSchema,
  memoryListQuery,
  memoryPatchBody,
  memorySearchBody,
  memorySearchResultSchema,
  writeMemoryBody,
  writeMemoryBodyDoc,
  writtenItemSchema,
} from './memory.schemas';
import type { memoryItemBody } from './memory.schemas';
import { z } from 'zod';
import { agentsFilter, memoryHitView, memoryItemView } from './memory.views';

export interface MemoryRoutesDeps {
  memory: MemoryService;
  cursors: CursorCodec;
}

const MemoryItem = memoryItemSchema.meta({ id: 'MemoryItem' });
const WrittenMemoryItem = writtenItemSchema.meta({ id: 'WrittenMemoryItem' });
const MemorySearchResult = memorySearchResultSchema.meta({ id: 'MemorySearchResult' });
const define = endpointFactory<MemoryRoutesDeps>();

// The correlation id comes from the request context (audit rows and cost rows read it there).
const actor = (req: Request): MemoryActor => ({ workspaceId: req.workspace!.id, userId: req.auth!.userId });

const toInput = (b: z.output<typeof memoryItemBody>): MemoryInput => ({
  agent: b.agent ?? null,
  kind: b.kind,
  subject: b.subject?.trim() ?? null,
  content: b.content,
  metadata: b.metadata ?? {},
  validFrom: b.valid_from ? new Date(b.valid_from) : null,
  sourceRunId: null,
});

const kinds = (k: MemoryKind | MemoryKind[] | undefined) =>
  k === undefined ? undefined : Array.isArray(k) ? k : [k];

/** Members read and write; owners and admins delete. Items of another workspace are simply not found. */
export const memoryEndpoints = [
  define({
    method: 'post',
    path: '/v1/memory',
    role: 'member',
    tags: ['memory'],
    summary: 'Remember one item, or `{items: […]}` (up to 100) embedded in one batch (members); audited',
    description:
      'Each item is embedded through the `embed` model alias (budget-admitted and cost-logged like any model ' +
      'call) and stored with its vector in one transaction: if the embedding model is down, nothing is ' +
      'stored (503). An item whose `subject` matches the current item of the same Lord (or of the Council) ' +
      "closes that one: its `valid_to` becomes this one's `valid_from`.",
    body: writeMemoryBody,
    bodyDoc: writeMemoryBodyDoc,
    bodyExample: { kind: 'brand', subject: 'voice', content: 'Warm, plain and a little playful.' },
    responses: {
      201: {
        schema: z.union([WrittenMemoryItem, z.object({ data: z.array(WrittenMemoryItem) })]),
        description: 'The item, or `{data: [items]}` in order for a batch',
      },
    },
    errors: [402, 503],
    handler: async ({ req, res, body }, { memory }) => {
      const batch = 'items' in body;
      const inputs = batch ? body.items.map(toInput) : [toInput(body)];
      const stored = await memory.write(actor(req), inputs);
      const views = stored.map((s) => ({ ...memoryItemView(s.item), superseded: s.superseded }));
      res.status(201).json(batch ? { data: views } : views[0]);
    },
  }),
  define({
    method: 'get',
    path: '/v1/memory',
    role: 'member',
    tags: ['memory'],
    summary: 'Memory items, newest first (members): valid now unless `as_of` or `history=true`',
    query: memoryListQuery,
    responses: { 200: { schema: list(MemoryItem), description: 'A page' } },
    handler: async ({ req, res, query }, { memory, cursors }) => {
      const { cursor: _c, limit, workspace_id: _w, ...filters } = query;
      const scope = `memory:${req.workspace!.id}:${JSON.stringify(filters)}`;
      const history = query.history === 'true';
      const page = await memory.list(
        req.workspace!.id,
        {
          agents: agentsFilter(query.agent),
          kinds: kinds(query.kind),
          subject: query.subject,
          sourceRunId: query.source_run_id,
          asOf: history ? undefined : query.as_of ? new Date(query.as_of) : new Date(),
        },
        cursors.decode(query.cursor, scope),
        limit,
      );
      res.json(toPage(cursors, scope, { ...page, data: page.data.map(memoryItemView) }));
    },
  }),
  define({
    method: 'post',
    path: '/v1/memory/search',
    role: 'member',
    tags: ['memory'],
    summary: 'Hybrid search (members): vector similarity fused with full-text rank',
    description:
      'Returns the `k` best items valid at `as_of` (default now), each with its fused `score`, its cosine ' +
      '`similarity` and its full-text `text_rank`. `path` says how vectors were searched: `pgvector` (HNSW ' +
      'index) or `exact` (a scan of the workspace; same answers, slower on large memories).',
    body: memorySearchBody,
    bodyExample: { query: 'What do we know about oat milk in cafés?', k: 5, kind: ['finding', 'brief'] },
    responses: { 200: { schema: MemorySearchResult, description: 'Best first' } },
    errors: [402, 503],
    handler: async ({ req, res, body }, { memory }) => {
      const r = await memory.search(actor(req), {
        query: body.query,
        k: body.k,
        filters: {
          agents: agentsFilter(body.agent),
          kinds: kinds(body.kind),
          asOf: body.as_of ? new Date(body.as_of) : new Date(),
          metadata: body.metadata,
        },
      });
      res.json({ data: r.hits.map(memoryHitView), path: r.path, embedding_model: r.embeddingModel });
    },
  }),
  define({
    method: 'get',
    path: '/v1/memory/:id',
    role: 'member',
    tags: ['memory'],
    summary: 'One memory item (members)',
    params: memoryIdParams,
    responses: { 200: { schema: MemoryItem, description: 'The item' } },
    errors: [404],
    handler: async ({ req, res, params }, { memory }) => {
      res.json(memoryItemView(await memory.get(req.workspace!.id, params.id)));
    },
  }),
  define({
    method: 'patch',
    path: '/v1/memory/:id',
    role: 'member',
    tags: ['memory'],
    summary: 'Edit content, metadata or validity (members); new content is embedded again; audited',
    params: memoryIdParams,
    body: memoryPatchBody,
    bodyExample: { content: 'Warm, plain, playful; never sarcastic.' },
    responses: { 200: { schema: MemoryItem, description: 'The item after the edit' } },
    errors: [402, 404, 409, 503],
    handler: async ({ req, res, params, body }, { memory }) => {
      const item = await memory.update(actor(req), params.id, {
        content: body.content,
        metadata: body.metadata,
        validFrom: body.valid_from ? new Date(body.valid_from) : undefined,
        validTo: body.valid_to === undefined ? undefined : body.valid_to ? new Date(body.valid_to) : null,
      });
      res.json(memoryItemView(item));
    },
  }),
  define({
    method: 'delete',
    path: '/v1/memory/:id',
    role: 'admin',
    tags: ['memory'],
    summary: 'Delete one item (admin+); audited',
    params: memoryIdParams,
    responses: { 204: { description: 'Deleted' } },
    errors: [404],
    handler: async ({ req, res, params }, { memory }) => {
      await memory.delete(actor(req), params.id);
      res.status(204).end();
    },
  }),
  define({
    method: 'delete',
    path: '/v1/memory',
    role: 'admin',
    tags: ['memory'],
    summary: 'Forget everything one run stored (admin+): `?source_run_id=`; audited',
    query: forgetRunQuery,
    responses: {
      200: {
        schema: forgetResultSchema,
        description: 'How many items were deleted (0 when the run stored none)',
      },
    },
    handler: async ({ req, res, query }, { memory }) => {
      res.json({ deleted: await memory.forgetRun(actor(req), query.source_run_id) });
    },
  }),
];
