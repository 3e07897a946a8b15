import { ServiceUnavailableError } from '@raptorflow/core/errors/app-error';
import { MemoryItemRepository } from '@raptorflow/data/repositories/memory-item.repository';
import { localEmbedding } from '@raptorflow/llm/embeddings/local-embedder';
import { newUser, newWorkspace } from '../support/factories';
import { fakeProviderEnv, useFakeProviders } from '../support/llm';
import { MEMORY_CORPUS, actorOf, memoryInput, newMemoryService } from '../support/memory';
import { openStack } from '../support/stack';

/**
 * The memory service on this database (no pgvector here: the exact path), embeddings through the real
 * ModelDispatcher: the local embedder offline, the real @google/genai client against the fake Gemini server.
 */
const stack = openStack();
const fakes = useFakeProviders();
afterAll(() => stack.close());

async function workspace() {
  const owner = await newUser();
  return { owner, ws: await newWorkspace(stack.db, owner) };
}

it('serves the exact path on PostgreSQL without pgvector', async () => {
  const { memory } = await newMemoryService(stack);
  expect(memory.path).toBe('exact');
});

describe('writing', () => {
  it('stores items with their vector, model and author, audited, with embedding cost rows', async () => {
    const { owner, ws } = await workspace();
    const { memory } = await newMemoryService(stack);
    const stored = await memory.write(actorOf(ws.id, owner.id), [
      memoryInput('Oat milk sells best in Nordic cafés', { agent: 'cognition', kind: 'finding' }),
      memoryInput('Warm and plain voice', { kind: 'brand', metadata: { source: 'brand book' } }),
    ]);
    expect(stored.map((s) => s.item.kind)).toEqual(['finding', 'brand']);
    // Same transaction, same created_at: ordered by kind (brand, finding).
    const rows = await stack.db('memory_items').where({ workspace_id: ws.id }).orderBy('kind');
    expect(rows).toHaveLength(2);
    expect(rows[1].embedding).toHaveLength(768);
    expect(rows[1].embedding_model).toBe('local:gemini-embedding-001');
    expect(rows[1].created_by).toBe(owner.id);
    expect(rows[0].metadata).toEqual({ source: 'brand book' });
    const norm = Math.sqrt(rows[0].embedding.reduce((s: number, x: number) => s + x * x, 0));
    expect(norm).toBeCloseTo(1, 4);

    const audits = await stack.db('audit_logs').where({ workspace_id: ws.id, action: 'memory.write' });
    expect(audits.map((a) => a.resource_id).sort()).toEqual(rows.map((r) => r.id).sort());
    // One embedding request for the batch: one cost row, audited as model.embed.
    const costs = await stack.db('cost_logs').where({ workspace_id: ws.id });
    expect(costs).toHaveLength(1);
    expect(costs[0]).toMatchObject({ model: 'gemini-embedding-001', alias: 'embed', outcome: 'success' });
    expect(Number(costs[0].input_tokens)).toBeGreaterThan(0);
    expect(await stack.db('audit_logs').where({ workspace_id: ws.id, action: 'model.embed' })).toHaveLength(
      1,
    );
  });

  it('closes the open item on the same subject instead of overwriting it, so the past can be asked', async () => {
    const { ws } = await workspace();
    const { memory } = await newMemoryService(stack);
    const actor = actorOf(ws.id);
    const [first] = await memory.write(actor, [
      memoryInput('The loyalty card is free.', {
        subject: 'loyalty card',
        validFrom: new Date('2026-09-01'),
      }),
    ]);
    const [second] = await memory.write(actor, [
      memoryInput('The loyalty card costs 2 euros a month.', {
        subject: 'loyalty card',
        validFrom: new Date('2026-10-15'),
      }),
    ]);
    expect(second!.superseded).toBe(first!.item.id);
    const old = await memory.get(ws.id, first!.item.id);
    expect(old.valid_to).toEqual(new Date('2026-10-15'));
    // A Lord's own item on the same subject is a different line of history.
    const [own] = await memory.write(actor, [
      memoryInput('Cognition notes the card is popular.', { subject: 'loyalty card', agent: 'cognition' }),
    ]);
    expect(own!.superseded).toBeNull();

    const search = (asOf: Date) =>
      memory.search(actor, { query: 'loyalty card price', k: 5, filters: { asOf, agents: [null] } });
    const onFirstOctober = await search(new Date('2026-10-01'));
    expect(onFirstOctober.hits.map((h) => h.item.id)).toEqual([first!.item.id]);
    const now = await search(new Date());
    expect(now.hits.map((h) => h.item.id)).toEqual([second!.item.id]);
  });

  it('fills history in when a backdated item arrives after a newer one', async () => {
    const { ws } = await workspace();
    const { memory } = await newMemoryService(stack);
    const actor = actorOf(ws.id);
    const [current] = await memory.write(actor, [
      memoryInput('Launch city: Oslo.', { subject: 'launch city', validFrom: new Date('2026-11-01') }),
    ]);
    const [older] = await memory.write(actor, [
      memoryInput('Launch city: Bergen.', { subject: 'launch city', validFrom: new Date('2026-08-01') }),
    ]);
    expect(older!.superseded).toBeNull();
    expect(older!.item.valid_to).toEqual(new Date('2026-11-01'));
    expect((await memory.get(ws.id, current!.item.id)).valid_to).toBeNull();
  });

  it('stores nothing when the embedding model is down: 503, no item, no audit row of a write', async () => {
    const { ws } = await workspace();
    fakes.gemini.script('gemini-embedding-001', { status: 503 }, { status: 503 });
    const env = fakeProviderEnv(fakes, { LLM_MAX_ATTEMPTS: '2' });
    const { memory } = await newMemoryService(stack, env);
    await expect(memory.write(actorOf(ws.id), [memoryInput('Anything')])).rejects.toBeInstanceOf(
      ServiceUnavailableError,
    );
    expect(await stack.db('memory_items').where({ workspace_id: ws.id })).toHaveLength(0);
    expect(await stack.db('audit_logs').where({ workspace_id: ws.id, action: 'memory.write' })).toHaveLength(
      0,
    );
    // The failed embedding is on record like any failed model call, at no cost.
    const costs = await stack.db('cost_logs').where({ workspace_id: ws.id });
    expect(costs.map((c) => [c.outcome, Number(c.cost_usd)])).toEqual([['failed', 0]]);
    expect(fakes.gemini.callCount('gemini-embedding-001')).toBe(2);
  });

  it('is budget-admitted like any model call: over budget, 402 and nothing stored', async () => {
    const { ws } = await workspace();
    // A budget of zero: even the smallest embedding cannot be reserved.
    const { memory } = await newMemoryService(stack, { LLM_PROVIDER: 'local' }, { defaultBudgetUsd: 0 });
    await expect(memory.write(actorOf(ws.id), [memoryInput('Anything')])).rejects.toMatchObject({
      status: 402,
      code: 'budget_exceeded',
    });
    expect(await stack.db('memory_items').where({ workspace_id: ws.id })).toHaveLength(0);
    expect(await stack.db('cost_logs').where({ workspace_id: ws.id })).toHaveLength(0);
  });

  it('embeds through Gemini when it has credentials: one request for the batch, real vectors stored', async () => {
    const { ws } = await workspace();
    const { memory } = await newMemoryService(stack, fakeProviderEnv(fakes));
    await memory.write(actorOf(ws.id), [memoryInput('one'), memoryInput('two'), memoryInput('three')]);
    expect(fakes.gemini.callCount('gemini-embedding-001')).toBe(1);
    const body = fakes.gemini.lastRequest('gemini-embedding-001')!.body;
    expect(body.requests).toHaveLength(3);
    expect(body.requests[0]).toMatchObject({ taskType: 'RETRIEVAL_DOCUMENT', outputDimensionality: 768 });
    const rows = await stack.db('memory_items').where({ workspace_id: ws.id });
    expect(new Set(rows.map((r) => r.embedding_model))).toEqual(new Set(['gemini:gemini-embedding-001']));
  });
});

describe('searching', () => {
  async function corpus() {
    const { ws } = await workspace();
    const { memory } = await newMemoryService(stack);
    const stored = await memory.write(
      actorOf(ws.id),
      MEMORY_CORPUS.map((c) => memoryInput(c.content, { kind: c.kind ?? 'fact' })),
    );
    const ids = Object.fromEntries(MEMORY_CORPUS.map((c, i) => [c.key, stored[i]!.item.id]));
    return { ws, memory, ids };
  }

  it('finds the related item first, with fused, vector and text scores', async () => {
    const { ws, memory, ids } = await corpus();
    const r = await memory.search(actorOf(ws.id), {
      query: 'oat milk in Scandinavian cafes',
      k: 3,
      filters: { asOf: new Date() },
    });
    expect(r.path).toBe('exact');
    expect(r.hits[0]!.item.id).toBe(ids.oat);
    expect(r.hits).toHaveLength(3);
    expect(r.hits[0]!.similarity).toBeGreaterThan(r.hits[2]!.similarity ?? -1);
    expect(r.hits[0]!.textRank).toBeGreaterThan(0);
    expect(r.hits.map((h) => h.score)).toEqual([...r.hits.map((h) => h.score)].sort((a, b) => b - a));
  });

  it('gives the same candidates when the exact scan reads its vectors in many small pages', async () => {
    const { ws, memory } = await corpus();
    const model = (await memory.search(actorOf(ws.id), { query: 'cafés', k: 1, filters: {} })).embeddingModel;
    const query = localEmbedding('coffee in Nordic cafés', 768);
    const whole = new MemoryItemRepository(stack.db);
    const paged = new MemoryItemRepository(stack.db, { exactScanPage: 3 });
    const args = ['exact', ws.id, {}, model, query, 5] as const;
    const a = await whole.vectorCandidates(...args);
    expect(a).toHaveLength(5);
    expect(await paged.vectorCandidates(...args)).toEqual(a);
  });

  it('finds an exact product name through full text', async () => {
    const { ws, memory, ids } = await corpus();
    const r = await memory.search(actorOf(ws.id), { query: 'Zephyr-9X', k: 2, filters: {} });
    expect(r.hits[0]!.item.id).toBe(ids.zephyr);
    expect(r.hits[0]!.textRank).toBeGreaterThan(0);
  });

  it('filters by kind and never returns another workspace’s items', async () => {
    const { ws, memory, ids } = await corpus();
    const other = await corpus();
    const r = await memory.search(actorOf(ws.id), {
      query: 'loyalty card decision',
      k: 10,
      filters: { kinds: ['decision'] },
    });
    expect(r.hits.map((h) => h.item.id)).toEqual([ids.price]);
    const all = await memory.search(actorOf(ws.id), { query: 'coffee', k: 100, filters: {} });
    const otherIds = new Set(Object.values(other.ids));
    expect(all.hits.some((h) => otherIds.has(h.item.id))).toBe(false);
    expect(all.hits.length).toBe(MEMORY_CORPUS.length);
  });
});
