import { createDatabase } from '@raptorflow/core/db/database';
import type { Knex } from '@raptorflow/core/db/database';
import { migrateLatest } from '@raptorflow/data/migrate';
import { RaptorBus } from '@raptorflow/events/bus/raptor-bus';
import type { MemoryService } from '@raptorflow/memory/memory.service';
import { newUser, newWorkspace } from '../support/factories';
import { MEMORY_CORPUS, actorOf, memoryInput, newMemoryService } from '../support/memory';
import { startPglite } from '../support/pglite';
import type { PgliteServer } from '../support/pglite';
import { openStack } from '../support/stack';

/**
 * The two search paths give the same answers for the same data: the exact scan on this PostgreSQL (no
 * pgvector) and pgvector's HNSW index on PGlite with its vector extension, both through the same
 * MemoryService, repository and knex code.
 */
const stack = openStack();
let server: PgliteServer;
let pglite: { db: Knex; bus: RaptorBus };

beforeAll(async () => {
  server = await startPglite();
  // One connection: PGlite is one session, so named prepared statements (the budget's) are per server, and
  // node-postgres must not believe a second connection lacks them.
  const db = createDatabase({ url: server.url, poolMax: 1, applicationName: 'raptorflow-memory-paths' });
  await migrateLatest(db);
  pglite = { db, bus: new RaptorBus({ db, prefix: stack.prefix }) };
}, 120_000);
afterAll(async () => {
  await pglite?.bus.close();
  await pglite?.db.destroy();
  await server?.stop();
  await stack.close();
});

// More than the corpus, so the vector side has near-misses to rank.
const EXTRA = Array.from({ length: 40 }, (_, i) =>
  [
    `Campaign note ${i}: the ${['spring', 'summer', 'autumn', 'winter'][i % 4]} promotion`,
    `for ${['students', 'families', 'office workers', 'tourists', 'baristas'][i % 5]}`,
    `in ${['Oslo', 'Stockholm', 'Copenhagen', 'Helsinki'][i % 4]} cafés, channel ${['email', 'Instagram', 'TikTok'][i % 3]}.`,
  ].join(' '),
);

async function fill(s: { db: Knex; bus: RaptorBus }) {
  const owner = await newUser();
  const ws = await newWorkspace(s.db, owner);
  const { memory } = await newMemoryService(s);
  const inputs = [
    ...MEMORY_CORPUS.map((c) => memoryInput(c.content, { kind: c.kind ?? 'fact' })),
    ...EXTRA.map((c, i) =>
      memoryInput(c, { kind: i % 2 ? 'finding' : 'fact', agent: i % 3 ? null : 'herald' }),
    ),
  ];
  const stored = await memory.write(actorOf(ws.id, owner.id), inputs);
  // Ids differ between the databases: compare by content.
  return { memory, ws, contentOf: new Map(stored.map((s) => [s.item.id, s.item.content])) };
}

const QUERIES = [
  'oat milk in Scandinavian cafes',
  'Zephyr-9X',
  'TikTok for Gen Z in Stockholm',
  'brand voice and tone',
  'winter promotion for tourists in Helsinki',
  'loyalty card pricing decision',
];

it('answers every query with the same items in the same order on both paths', async () => {
  const exact = await fill(stack);
  const hnsw = await fill(pglite);
  expect(exact.memory.path).toBe('exact');
  expect(hnsw.memory.path).toBe('pgvector');
  // Exact ties (equal fused score) have no order of their own: listed by content within a tie.
  const ask = async (
    side: { memory: MemoryService; ws: { id: string }; contentOf: Map<string, string> },
    query: string,
    filters = {},
  ) => {
    const r = await side.memory.search(actorOf(side.ws.id), { query, k: 5, filters });
    return r.hits
      .map((h) => ({ content: side.contentOf.get(h.item.id)!, score: h.score, similarity: h.similarity }))
      .sort((a, b) => b.score - a.score || a.content.localeCompare(b.content));
  };
  for (const query of QUERIES)
    expect([query, await ask(hnsw, query)]).toEqual([query, await ask(exact, query)]);
  const filters = { kinds: ['finding'] as const, agents: ['herald', null] };
  expect(await ask(hnsw, 'students in Oslo', { ...filters, kinds: [...filters.kinds] })).toEqual(
    await ask(exact, 'students in Oslo', { ...filters, kinds: [...filters.kinds] }),
  );
}, 120_000);

it('uses the HNSW index on the pgvector path', async () => {
  const plan = await pglite.db.raw(
    `SET enable_seqscan = off; EXPLAIN SELECT id FROM memory_items
       ORDER BY (embedding::vector(768)) <=> (SELECT embedding::vector(768) FROM memory_items LIMIT 1) LIMIT 5`,
  );
  const text = JSON.stringify(plan);
  expect(text).toContain('memory_items_embedding_hnsw');
  await pglite.db.raw('RESET enable_seqscan');
});
