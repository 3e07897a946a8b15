import type { JsonSchema } from '../lib/json-schema-form';

/** The flows' schemas as GET /v1/flows gives them (zod's JSON Schema, io: input). */
export const RESEARCH: JsonSchema = {
  type: 'object',
  properties: {
    topic: { type: 'string', minLength: 1, maxLength: 500, title: 'Topic', description: 'What to research' },
    audience: { type: 'string', minLength: 1, maxLength: 300 },
    depth: { type: 'string', enum: ['quick', 'standard', 'deep'], default: 'standard', title: 'Depth' },
  },
  required: ['topic'],
};

export const MATRIX: JsonSchema = {
  type: 'object',
  properties: {
    objective: { type: 'string', minLength: 1, maxLength: 2000 },
    budget_usd: { type: 'number', minimum: 0, maximum: 100000000 },
    horizon_weeks: { type: 'integer', minimum: 1, maximum: 104, default: 4 },
    tags: { type: 'array', items: { type: 'string', maxLength: 5 } },
    urgent: { type: 'boolean' },
    note: { anyOf: [{ type: 'string', maxLength: 50 }, { type: 'null' }] },
  },
  required: ['objective'],
};
