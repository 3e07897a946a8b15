import { describe, expect, it } from 'vitest';
import { fieldsFromSchema, initialValues, labelFor, serverFieldErrors, validate } from './json-schema-form';
import { MATRIX, RESEARCH } from '../test/fixtures';

describe('fieldsFromSchema', () => {
  it('labels fields by title, else the property name capitalised, with required marks and kinds', () => {
    const fields = fieldsFromSchema(RESEARCH);
    expect(fields.map((f) => [f.name, f.label, f.kind, f.required])).toEqual([
      ['topic', 'Topic', 'text', true],
      ['audience', 'Audience', 'text', false],
      ['depth', 'Depth', 'select', false],
    ]);
    expect(fields[2]!.options).toEqual(['quick', 'standard', 'deep']);
    expect(fields[0]!.description).toBe('What to research');
    expect(initialValues(fields)).toEqual({ topic: '', audience: '', depth: 'standard' });
  });

  it('reads numbers, integers, long text, lists, check boxes and nullable fields', () => {
    const f = Object.fromEntries(fieldsFromSchema(MATRIX).map((x) => [x.name, x]));
    expect(f.objective).toMatchObject({ kind: 'textarea', label: 'Objective', required: true });
    expect(f.budget_usd).toMatchObject({ kind: 'number', label: 'Budget USD', minimum: 0 });
    expect(f.horizon_weeks).toMatchObject({ kind: 'integer', label: 'Horizon weeks', defaultValue: 4 });
    expect(f.tags).toMatchObject({ kind: 'list', maxLength: 5 });
    expect(f.urgent).toMatchObject({ kind: 'checkbox' });
    expect(f.note).toMatchObject({ kind: 'text', maxLength: 50 });
    expect(labelFor('horizonWeeks')).toBe('Horizon weeks');
  });
});

describe('validate', () => {
  const fields = fieldsFromSchema(MATRIX);
  it('names each problem by field', () => {
    const r = validate(fields, {
      objective: '   ',
      budget_usd: '-1',
      horizon_weeks: '2.5',
      tags: 'ok\ntoo long',
      urgent: false,
      note: '',
    });
    expect(r).toEqual({
      ok: false,
      errors: {
        objective: 'Required.',
        budget_usd: 'Must be at least 0.',
        horizon_weeks: 'Enter a whole number.',
        tags: 'Each line may have at most 5 characters.',
      },
    });
  });

  it('gives the input to send: trimmed text, numbers as numbers, empty optional fields left out', () => {
    const r = validate(fields, {
      objective: ' Launch oat milk ',
      budget_usd: '2500.5',
      horizon_weeks: '6',
      tags: 'a\n\n b \n',
      urgent: true,
      note: '',
    });
    expect(r).toEqual({
      ok: true,
      input: {
        objective: 'Launch oat milk',
        budget_usd: 2500.5,
        horizon_weeks: 6,
        tags: ['a', 'b'],
        urgent: true,
      },
    });
  });

  it('checks text length and enum choices', () => {
    const research = fieldsFromSchema(RESEARCH);
    const r = validate(research, { topic: 'x'.repeat(501), audience: '', depth: 'huge' });
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.errors.topic).toBe('Must have at most 500 characters (now 501).');
    expect(r.errors.depth).toBe('Choose one of: quick, standard, deep.');
  });
});

describe('serverFieldErrors', () => {
  it("places the API's 422 field paths on the form's fields and keeps the rest apart", () => {
    const fields = fieldsFromSchema(RESEARCH);
    const r = serverFieldErrors(
      [
        { path: 'body.input.topic', message: 'must not be empty' },
        { path: 'body.input.depth', message: 'Invalid option' },
        { path: 'body.agent', message: 'unknown agent' },
        { path: 'body.input', message: 'Unrecognized key: "colour"' },
      ],
      fields,
    );
    expect(r.byField).toEqual({ topic: 'must not be empty', depth: 'Invalid option' });
    expect(r.other).toEqual(['body.agent: unknown agent', 'body.input: Unrecognized key: "colour"']);
  });
});
