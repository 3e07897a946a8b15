import type { ChatMessage } from './llm.types';

/** Framing tokens per message (role markers, separators); generous so the bound stays an upper bound. */
const PER_MESSAGE_OVERHEAD = 8;
/**
 * Structured output adds the provider's own framing around the schema (Claude: a system prompt describing
 * the format). Generous, so the bound stays an upper bound.
 */
const SCHEMA_OVERHEAD = 400;

/**
 * An upper bound on the prompt's token count for admission. Every BPE / SentencePiece token of the models we
 * price covers at least one UTF-8 byte, so bytes + framing can never be below the real count: a reservation
 * built on it can never be exceeded by the settled cost, which is what "never overspend" rests on. It costs
 * no network round trip (the providers' countTokens endpoints would add one per call).
 */
export function promptTokenUpperBound(
  messages: readonly ChatMessage[],
  system?: string,
  /** A structured answer's JSON Schema, which the providers bill as prompt. */
  schema?: string,
): number {
  let total = system ? Buffer.byteLength(system, 'utf8') + PER_MESSAGE_OVERHEAD : 0;
  if (schema) total += Buffer.byteLength(schema, 'utf8') + SCHEMA_OVERHEAD;
  for (const m of messages) total += Buffer.byteLength(m.content, 'utf8') + PER_MESSAGE_OVERHEAD;
  return total;
}

/** A realistic estimate (≈ 4 characters a token for English), used by the offline `local` provider. */
export function realisticTokenCount(text: string): number {
  return text.length === 0 ? 0 : Math.max(1, Math.ceil(text.length / 4));
}
