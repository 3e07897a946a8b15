import type { Knex } from 'knex';
import { AuditLogService } from '@raptorflow/data/domain/audit-log.service';
import { detectMemorySearchPath } from '@raptorflow/data/memory/memory-vector';
import { MemoryItemRepository } from '@raptorflow/data/repositories/memory-item.repository';
import type { RaptorBus } from '@raptorflow/events/bus/raptor-bus';
import { MemoryService } from '@raptorflow/memory/memory.service';
import type { MemoryActor, MemoryInput } from '@raptorflow/memory/memory.service';
import { newDispatcher } from './llm';

/** A MemoryService over `db` as a service's main.ts wires it, its embeddings from `env`'s providers. */
export async function newMemoryService(
  stack: { db: Knex; bus: RaptorBus },
  env: Record<string, string> = { LLM_PROVIDER: 'local' },
  opts: { defaultBudgetUsd?: number } = {},
) {
  const { dispatcher, ledger } = newDispatcher(stack, env, opts);
  const memory = new MemoryService({
    db: stack.db,
    items: new MemoryItemRepository(stack.db),
    dispatcher,
    audit: new AuditLogService({ db: stack.db }),
    path: await detectMemorySearchPath(stack.db),
  });
  return { memory, dispatcher, ledger };
}

/** An item with the defaults a test does not care about. */
export function memoryInput(content: string, over: Partial<MemoryInput> = {}): MemoryInput {
  return {
    agent: null,
    kind: 'fact',
    subject: null,
    content,
    metadata: {},
    validFrom: null,
    sourceRunId: null,
    ...over,
  };
}

export const actorOf = (workspaceId: string, userId: string | null = null): MemoryActor => ({
  workspaceId,
  userId,
});

/** A small marketing memory in which the right answer to each query is known. */
export const MEMORY_CORPUS: readonly { key: string; content: string; kind?: MemoryInput['kind'] }[] = [
  { key: 'oat', content: 'Nordic cafés are switching their lattes to oat milk; baristas say it foams best.' },
  {
    key: 'tone',
    content: 'Our brand voice is warm, plain and a little playful; never use jargon.',
    kind: 'brand',
  },
  { key: 'zephyr', content: 'The Zephyr-9X espresso grinder launches in March at 349 euros.' },
  { key: 'gen-z', content: 'Gen Z coffee drinkers in Stockholm discover new cafés through TikTok videos.' },
  { key: 'b2b', content: 'Quarterly webinar on B2B cybersecurity compliance for finance teams.' },
  {
    key: 'price',
    content: 'We decided to keep the loyalty card free; a paid tier tested badly.',
    kind: 'decision',
  },
  { key: 'email', content: 'Newsletter open rates rise when the subject line names the café.' },
  { key: 'winter', content: 'Winter menus in Scandinavian coffee shops lean on cardamom and cinnamon buns.' },
];
