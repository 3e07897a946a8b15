/**
 * Form fields from a JSON Schema (the flows' `input_schema`, 2020-12, as zod writes it): one field per
 * property, labelled by its `title` or its name, required per `required`, enums as choices, numbers with
 * their bounds, long text as a text area. The same rules check the values before they are sent.
 */

export type JsonSchema = {
  type?: string | string[];
  title?: string;
  description?: string;
  properties?: Record<string, JsonSchema>;
  required?: string[];
  enum?: unknown[];
  const?: unknown;
  default?: unknown;
  minLength?: number;
  maxLength?: number;
  minimum?: number;
  maximum?: number;
  exclusiveMinimum?: number;
  exclusiveMaximum?: number;
  pattern?: string;
  format?: string;
  items?: JsonSchema;
  anyOf?: JsonSchema[];
  oneOf?: JsonSchema[];
};

export type FieldKind = 'text' | 'textarea' | 'number' | 'integer' | 'select' | 'checkbox' | 'list';

export interface FieldSpec {
  name: string;
  label: string;
  description: string | null;
  kind: FieldKind;
  required: boolean;
  options: string[];
  defaultValue: unknown;
  minLength?: number;
  maxLength?: number;
  minimum?: number;
  maximum?: number;
  exclusiveMinimum?: number;
  exclusiveMaximum?: number;
  pattern?: string;
}

/** Text longer than this gets a text area. */
const LONG_TEXT = 500;

const ACRONYMS: Record<string, string> = { usd: 'USD', url: 'URL', id: 'ID', api: 'API' };

/** `topic` → "Topic", `budget_usd` → "Budget USD". */
export function labelFor(name: string): string {
  const words = name
    .replace(/([a-z0-9])([A-Z])/g, '$1 $2')
    .split(/[_\s-]+/)
    .filter(Boolean)
    .map((w) => ACRONYMS[w.toLowerCase()] ?? w.toLowerCase());
  const text = words.join(' ');
  return text.charAt(0).toUpperCase() + text.slice(1);
}

/** `T | null` written as anyOf/oneOf or a type list: the non-null part. */
function unwrapNullable(s: JsonSchema): JsonSchema {
  const branches = s.anyOf ?? s.oneOf;
  if (branches) {
    const nonNull = branches.filter((b) => b.type !== 'null');
    if (nonNull.length === 1) return { ...nonNull[0], ...withoutBranches(s) };
  }
  if (Array.isArray(s.type)) {
    const types = s.type.filter((t) => t !== 'null');
    if (types.length === 1) return { ...s, type: types[0] };
  }
  return s;
}

function withoutBranches(s: JsonSchema): JsonSchema {
  const { anyOf: _a, oneOf: _o, ...rest } = s;
  return rest;
}

function kindOf(s: JsonSchema): FieldKind {
  if (s.enum && s.enum.length > 0) return 'select';
  switch (s.type) {
    case 'integer':
      return 'integer';
    case 'number':
      return 'number';
    case 'boolean':
      return 'checkbox';
    case 'array':
      return 'list';
    default:
      return s.maxLength === undefined || s.maxLength > LONG_TEXT ? 'textarea' : 'text';
  }
}

export function fieldsFromSchema(schema: JsonSchema): FieldSpec[] {
  const required = new Set(schema.required ?? []);
  return Object.entries(schema.properties ?? {}).map(([name, raw]) => {
    const s = unwrapNullable(raw);
    const spec: FieldSpec = {
      name,
      label: s.title?.trim() || labelFor(name),
      description: s.description ?? null,
      kind: kindOf(s),
      required: required.has(name),
      options: (s.enum ?? []).map(String),
      defaultValue: s.default,
    };
    const item = s.items;
    const bounds = s.type === 'array' && item ? item : s;
    if (bounds.minLength !== undefined) spec.minLength = bounds.minLength;
    if (bounds.maxLength !== undefined) spec.maxLength = bounds.maxLength;
    if (s.minimum !== undefined) spec.minimum = s.minimum;
    if (s.maximum !== undefined) spec.maximum = s.maximum;
    if (s.exclusiveMinimum !== undefined) spec.exclusiveMinimum = s.exclusiveMinimum;
    if (s.exclusiveMaximum !== undefined) spec.exclusiveMaximum = s.exclusiveMaximum;
    if (bounds.pattern !== undefined) spec.pattern = bounds.pattern;
    return spec;
  });
}

/** What the form holds: text for inputs, a boolean for check boxes. */
export type FormValues = Record<string, string | boolean>;

export function initialValues(fields: FieldSpec[]): FormValues {
  const values: FormValues = {};
  for (const f of fields) {
    const d = f.defaultValue;
    if (f.kind === 'checkbox') values[f.name] = d === true;
    else if (f.kind === 'list') values[f.name] = Array.isArray(d) ? d.map(String).join('\n') : '';
    else values[f.name] = d === undefined || d === null ? '' : String(d);
  }
  return values;
}

export type FieldErrors = Record<string, string>;

const chars = (n: number) => `${n} character${n === 1 ? '' : 's'}`;

/** Checks the values by the schema's rules; returns the input to send, or the problems by field. */
export function validate(
  fields: FieldSpec[],
  values: FormValues,
): { ok: true; input: Record<string, unknown> } | { ok: false; errors: FieldErrors } {
  const errors: FieldErrors = {};
  const input: Record<string, unknown> = {};
  for (const f of fields) {
    const raw = values[f.name];
    if (f.kind === 'checkbox') {
      input[f.name] = raw === true;
      continue;
    }
    const text = typeof raw === 'string' ? raw : '';
    if (text.trim() === '') {
      if (f.required) errors[f.name] = 'Required.';
      continue;
    }
    switch (f.kind) {
      case 'number':
      case 'integer': {
        const n = Number(text.trim());
        if (!Number.isFinite(n)) errors[f.name] = 'Enter a number.';
        else if (f.kind === 'integer' && !Number.isInteger(n)) errors[f.name] = 'Enter a whole number.';
        else if (f.minimum !== undefined && n < f.minimum) errors[f.name] = `Must be at least ${f.minimum}.`;
        else if (f.maximum !== undefined && n > f.maximum) errors[f.name] = `Must be at most ${f.maximum}.`;
        else if (f.exclusiveMinimum !== undefined && n <= f.exclusiveMinimum)
          errors[f.name] = `Must be more than ${f.exclusiveMinimum}.`;
        else if (f.exclusiveMaximum !== undefined && n >= f.exclusiveMaximum)
          errors[f.name] = `Must be less than ${f.exclusiveMaximum}.`;
        else input[f.name] = n;
        break;
      }
      case 'select':
        if (!f.options.includes(text)) errors[f.name] = `Choose one of: ${f.options.join(', ')}.`;
        else input[f.name] = text;
        break;
      case 'list': {
        const items = text
          .split('\n')
          .map((l) => l.trim())
          .filter(Boolean);
        const bad = items.find((i) => f.maxLength !== undefined && i.length > f.maxLength);
        if (bad !== undefined) errors[f.name] = `Each line may have at most ${chars(f.maxLength!)}.`;
        else input[f.name] = items;
        break;
      }
      default: {
        const value = text.trim();
        if (f.minLength !== undefined && value.length < f.minLength)
          errors[f.name] = `Must have at least ${chars(f.minLength)}.`;
        else if (f.maxLength !== undefined && value.length > f.maxLength)
          errors[f.name] = `Must have at most ${chars(f.maxLength)} (now ${value.length}).`;
        else if (f.pattern !== undefined && !safeTest(f.pattern, value))
          errors[f.name] = 'Does not have the expected form.';
        else input[f.name] = value;
      }
    }
  }
  return Object.keys(errors).length > 0 ? { ok: false, errors } : { ok: true, input };
}

function safeTest(pattern: string, value: string): boolean {
  try {
    return new RegExp(pattern, 'u').test(value);
  } catch {
    return true;
  }
}

/**
 * The API's 422 field paths (`body.input.topic`) as this form's fields; what names no field of the form
 * (`body.agent`, `body.input` itself) is returned apart, to be shown above the form.
 */
export function serverFieldErrors(
  problems: ReadonlyArray<{ path: string; message: string }>,
  fields: FieldSpec[],
  prefix = 'body.input',
): { byField: FieldErrors; other: string[] } {
  const names = new Set(fields.map((f) => f.name));
  const byField: FieldErrors = {};
  const other: string[] = [];
  for (const p of problems) {
    const rest = p.path.startsWith(`${prefix}.`) ? p.path.slice(prefix.length + 1) : null;
    const name = rest?.split('.')[0];
    if (name && names.has(name)) byField[name] = byField[name] ? `${byField[name]} ${p.message}` : p.message;
    else other.push(`${p.path}: ${p.message}`);
  }
  return { byField, other };
}
