import { MEMORY_KINDS } from '@raptorflow/data/repositories/memory-item.rows';
import { z } from 'zod';
import type { RecalledItem } from './flow.types';

/** A recalled item in a flow's state (a step output, so a resumed run rebuilds the same prompts). */
export const recalledItemSchema = z.object({
  id: z.string(),
  kind: z.enum(MEMORY_KINDS),
  score: z.number(),
  similarity: z.number().nullable(),
  content: z.string(),
});

/**
 * How much of one item goes into a prompt: enough for a fact or a finding, while five long briefs cannot
 * crowd out the task itself.
 */
export const MAX_ITEM_CHARS = 600;

function clipped(content: string): string {
  const flat = content.replace(/\s+/g, ' ').trim();
  return flat.length > MAX_ITEM_CHARS ? `${flat.slice(0, MAX_ITEM_CHARS - 1)}…` : flat;
}

/** Titled bullet lines, or '' when there is nothing (the prompt then reads as it did before memory). */
function section(title: string, lines: readonly string[]): string {
  return lines.length > 0 ? [title, ...lines.map((l) => `- ${l}`)].join('\n') : '';
}

/** What the Council already knows (best match first), each line labelled with its kind. */
export function knownLines(items: readonly RecalledItem[] | undefined): string {
  return section(
    'What the Council already knows (build on it; do not repeat it as new):',
    (items ?? []).map((i) => `(${i.kind}) ${clipped(i.content)}`),
  );
}

/** The brand's own facts, stated as constraints the copy must honour. */
export function brandLines(items: readonly RecalledItem[] | undefined): string {
  return section(
    'Brand facts to honour:',
    (items ?? []).map((i) => clipped(i.content)),
  );
}
