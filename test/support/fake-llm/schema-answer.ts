import { createHash } from 'node:crypto';
import { sampleFromSchema } from '@raptorflow/llm/schema-sample';

/**
 * The fakes' default structured answer: JSON that fits the request's schema, drawn from a digest of the
 * request body, so the same request always gets the same answer (a resumed run's repeated call included).
 */
export function schemaAnswer(schema: Record<string, unknown>, body: unknown): string {
  const seed = createHash('sha256').update(JSON.stringify(body)).digest();
  return JSON.stringify(sampleFromSchema(readDescriptions(schema), { seed, topic: 'the request' }));
}

/**
 * The schema as a model that reads it would follow it: Anthropic's SDK moves the constraints the API cannot
 * enforce into the description (`…{minItems: 3, maxItems: 3}`), and Claude honours them from there.
 */
function readDescriptions(schema: unknown): any {
  if (Array.isArray(schema)) return schema.map(readDescriptions);
  if (!schema || typeof schema !== 'object') return schema;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(schema)) out[k] = readDescriptions(v);
  const m = typeof out.description === 'string' ? /\{([^{}]*)\}$/.exec(out.description) : null;
  for (const pair of m ? m[1]!.split(', ') : []) {
    const [key, value] = pair.split(': ');
    try {
      if (key && value !== undefined && !(key in out)) out[key] = JSON.parse(value);
    } catch {
      /* not a constraint */
    }
  }
  return out;
}
