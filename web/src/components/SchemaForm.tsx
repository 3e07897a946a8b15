import { useEffect, useId, useMemo, useRef, useState } from 'react';
import type { FormEvent, ReactNode } from 'react';
import { fieldsFromSchema, initialValues, validate } from '../lib/json-schema-form';
import type { FieldErrors, FieldSpec, FormValues, JsonSchema } from '../lib/json-schema-form';

export interface SchemaFormProps {
  schema: JsonSchema;
  submitLabel: string;
  /** Called with the checked input; the form shows `serverErrors` (by field) from its answer. */
  onSubmit: (input: Record<string, unknown>) => void;
  serverErrors?: FieldErrors;
  submitting?: boolean;
  /** Extra controls after the schema's fields (e.g. the model choice). */
  children?: ReactNode;
}

function sentence(message: string): string {
  const m = message.trim();
  return m ? m.charAt(0).toUpperCase() + m.slice(1) : m;
}

/** A form generated from a JSON Schema object (see lib/json-schema-form). */
export function SchemaForm({
  schema,
  submitLabel,
  onSubmit,
  serverErrors,
  submitting,
  children,
}: SchemaFormProps) {
  const fields = useMemo(() => fieldsFromSchema(schema), [schema]);
  const [values, setValues] = useState<FormValues>(() => initialValues(fields));
  const [errors, setErrors] = useState<FieldErrors>({});
  const formRef = useRef<HTMLFormElement>(null);
  const baseId = useId();

  useEffect(() => setValues(initialValues(fields)), [fields]);
  // The API's field problems (a new object per answer) replace the local ones; focus goes to the first.
  useEffect(() => {
    if (serverErrors && Object.keys(serverErrors).length > 0) {
      setErrors(serverErrors);
      focusFirst(Object.keys(serverErrors));
    }
  }, [serverErrors]);

  function focusFirst(names: string[]) {
    const first = fields.find((f) => names.includes(f.name));
    if (!first) return;
    const el = formRef.current?.elements.namedItem(first.name);
    if (el instanceof HTMLElement) el.focus();
  }

  function submit(e: FormEvent) {
    e.preventDefault();
    const result = validate(fields, values);
    if (!result.ok) {
      setErrors(result.errors);
      focusFirst(Object.keys(result.errors));
      return;
    }
    setErrors({});
    onSubmit(result.input);
  }

  const anyRequired = fields.some((f) => f.required);
  return (
    <form ref={formRef} className="form" onSubmit={submit} noValidate>
      {anyRequired && (
        <p className="muted small">
          Fields marked <span aria-hidden="true">*</span>
          <span className="visually-hidden">with an asterisk</span> are required.
        </p>
      )}
      {fields.map((f) => (
        <Field
          key={f.name}
          id={`${baseId}-${f.name}`}
          field={f}
          value={values[f.name] ?? ''}
          error={errors[f.name]}
          onChange={(v) => {
            setValues((old) => ({ ...old, [f.name]: v }));
            if (errors[f.name])
              setErrors((old) => {
                const { [f.name]: _gone, ...rest } = old;
                return rest;
              });
          }}
        />
      ))}
      {children}
      <div className="form-actions">
        <button type="submit" className="button" disabled={submitting}>
          {submitLabel}
        </button>
      </div>
    </form>
  );
}

function Field({
  id,
  field: f,
  value,
  error,
  onChange,
}: {
  id: string;
  field: FieldSpec;
  value: string | boolean;
  error: string | undefined;
  onChange: (v: string | boolean) => void;
}) {
  const hintId = f.description ? `${id}-hint` : undefined;
  const errorId = error ? `${id}-error` : undefined;
  const describedBy = [errorId, hintId].filter(Boolean).join(' ') || undefined;
  const common = {
    id,
    name: f.name,
    required: f.required,
    'aria-invalid': error ? true : undefined,
    'aria-describedby': describedBy,
  } as const;
  // The asterisk sits beside the label, not in it: the field's name stays exactly its title ("Topic"), and
  // `required` tells assistive technology what the asterisk tells the eye.
  const label = (
    <span className="field-label">
      <label htmlFor={id}>{f.label}</label>
      {f.required && (
        <span className="required" aria-hidden="true">
          {' '}
          *
        </span>
      )}
    </span>
  );
  const text = typeof value === 'string' ? value : '';
  let control: ReactNode;
  switch (f.kind) {
    case 'checkbox':
      return (
        <div className={`field field-checkbox${error ? ' has-error' : ''}`}>
          <input
            {...common}
            type="checkbox"
            checked={value === true}
            onChange={(e) => onChange(e.target.checked)}
          />
          {label}
          {hintId && (
            <p id={hintId} className="hint">
              {f.description}
            </p>
          )}
          {error && (
            <p id={errorId} className="field-error">
              {sentence(error)}
            </p>
          )}
        </div>
      );
    case 'select':
      control = (
        <select {...common} value={text} onChange={(e) => onChange(e.target.value)}>
          {(!f.required || f.defaultValue === undefined) && (
            <option value="">{f.required ? 'Choose…' : '—'}</option>
          )}
          {f.options.map((o) => (
            <option key={o} value={o}>
              {o}
            </option>
          ))}
        </select>
      );
      break;
    case 'number':
    case 'integer':
      control = (
        <input
          {...common}
          type="number"
          inputMode={f.kind === 'integer' ? 'numeric' : 'decimal'}
          step={f.kind === 'integer' ? 1 : 'any'}
          min={f.minimum}
          max={f.maximum}
          value={text}
          onChange={(e) => onChange(e.target.value)}
        />
      );
      break;
    case 'textarea':
    case 'list':
      control = (
        <textarea
          {...common}
          rows={f.kind === 'list' ? 4 : 5}
          value={text}
          onChange={(e) => onChange(e.target.value)}
        />
      );
      break;
    default:
      control = <input {...common} type="text" value={text} onChange={(e) => onChange(e.target.value)} />;
  }
  return (
    <div className={`field${error ? ' has-error' : ''}`}>
      {label}
      {hintId && (
        <p id={hintId} className="hint">
          {f.description}
          {f.kind === 'list' && ' One per line.'}
        </p>
      )}
      {control}
      {error && (
        <p id={errorId} className="field-error">
          {sentence(error)}
        </p>
      )}
    </div>
  );
}
