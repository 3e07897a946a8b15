import { createHash } from 'node:crypto';
import { sampleFromSchema } from '@raptorflow/llm/schema-sample';

/**
 * The fakes' default structured answer: JSON that fits the request's schema, drawn from a digest of the
 * request body, so the same request always gets the same answer (a resumed run's repeated call included).
 */
export function schemaAnswer(schema: Record<string, unknown>, body: unknown): string {
  const seed = createHash('sha256').update(JSON.stringify(body)).digest();
  return JSON.stringify(sampleFromSchema(schema, { seed, topic: 'the request' }));
}
