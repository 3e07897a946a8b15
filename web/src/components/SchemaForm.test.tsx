import { render, screen } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { describe, expect, it, vi } from 'vitest';
import { MATRIX, RESEARCH } from '../test/fixtures';
import { SchemaForm } from './SchemaForm';

describe('SchemaForm', () => {
  it('generates labelled fields from a JSON Schema: required marks, enums as selects, defaults', () => {
    render(<SchemaForm schema={RESEARCH} submitLabel="Start run" onSubmit={() => undefined} />);
    const topic = screen.getByRole('textbox', { name: 'Topic' });
    expect(topic).toHaveProperty('required', true);
    expect(topic.getAttribute('aria-describedby')).toBeTruthy();
    expect(screen.getByText('What to research')).toBeTruthy();
    // The asterisk is for the eye; the name stays "Topic" and `required` says it to assistive technology.
    expect(topic.closest('.field')!.querySelector('[aria-hidden="true"]')!.textContent).toContain('*');
    expect(screen.getByLabelText('Topic')).toBe(topic); // the label's own text is exactly the title
    expect(screen.getByRole('textbox', { name: 'Audience' })).toHaveProperty('required', false);
    const depth = screen.getByRole('combobox', { name: 'Depth' }) as HTMLSelectElement;
    expect(depth.value).toBe('standard');
    expect([...depth.options].map((o) => o.value)).toEqual(['', 'quick', 'standard', 'deep']);
    expect(screen.getByRole('button', { name: 'Start run' })).toBeTruthy();
  });

  it('shows validation messages next to the fields, marks them invalid and focuses the first', async () => {
    const onSubmit = vi.fn();
    render(<SchemaForm schema={MATRIX} submitLabel="Start run" onSubmit={onSubmit} />);
    const user = userEvent.setup();
    await user.clear(screen.getByRole('spinbutton', { name: 'Horizon weeks' }));
    await user.type(screen.getByRole('spinbutton', { name: 'Horizon weeks' }), '0');
    await user.click(screen.getByRole('button', { name: 'Start run' }));
    expect(onSubmit).not.toHaveBeenCalled();
    const objective = screen.getByRole('textbox', { name: 'Objective' });
    expect(objective.getAttribute('aria-invalid')).toBe('true');
    const message = document.getElementById(objective.getAttribute('aria-describedby')!.split(' ')[0]!)!;
    expect(message.textContent).toBe('Required.');
    expect(document.activeElement).toBe(objective);
    const weeks = screen.getByRole('spinbutton', { name: 'Horizon weeks' });
    expect(weeks.getAttribute('aria-invalid')).toBe('true');
    expect(screen.getByText('Must be at least 1.')).toBeTruthy();

    // Fixing a field clears its message; a valid form sends typed input.
    await user.type(objective, 'Launch oat milk in Oslo');
    expect(objective.getAttribute('aria-invalid')).toBeNull();
    await user.clear(weeks);
    await user.type(weeks, '6');
    await user.click(screen.getByRole('button', { name: 'Start run' }));
    expect(onSubmit).toHaveBeenCalledWith({
      objective: 'Launch oat milk in Oslo',
      horizon_weeks: 6,
      urgent: false,
    });
  });

  it("shows the server's field messages next to their fields", () => {
    render(
      <SchemaForm
        schema={RESEARCH}
        submitLabel="Start run"
        onSubmit={() => undefined}
        serverErrors={{ topic: 'must not be empty' }}
      />,
    );
    const topic = screen.getByRole('textbox', { name: 'Topic' });
    expect(topic.getAttribute('aria-invalid')).toBe('true');
    expect(topic.getAttribute('aria-describedby')).toContain('error');
    expect(screen.getByText('Must not be empty')).toBeTruthy();
  });
});
