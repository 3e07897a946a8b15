import type { RecalledItem } from './flow.types';
import { MAX_ITEM_CHARS, brandLines, knownLines } from './memory-prompt';

const item = (content: string, over: Partial<RecalledItem> = {}): RecalledItem => ({
  id: 'id-1',
  kind: 'finding',
  score: 0.03,
  similarity: 0.8,
  content,
  ...over,
});

describe('knownLines', () => {
  it('lists what the Council knows under its heading, best first, each with its kind', () => {
    const text = knownLines([
      item('Runners buy oat milk after long runs.'),
      item('We never discount below 10%.', { kind: 'decision' }),
    ]);
    expect(text.split('\n')).toEqual([
      'What the Council already knows (build on it; do not repeat it as new):',
      '- (finding) Runners buy oat milk after long runs.',
      '- (decision) We never discount below 10%.',
    ]);
  });

  it('is empty when nothing was recalled, so the prompt reads as it did without memory', () => {
    expect(knownLines([])).toBe('');
    expect(knownLines(undefined)).toBe('');
  });

  it('keeps each item on one line and clips a long one', () => {
    const long = `Line one\n\nline two ${'x'.repeat(2 * MAX_ITEM_CHARS)}`;
    const [, line] = knownLines([item(long)]).split('\n');
    expect(line!.startsWith('- (finding) Line one line two x')).toBe(true);
    expect(line!.endsWith('…')).toBe(true);
    expect(line!.length).toBe('- (finding) '.length + MAX_ITEM_CHARS);
  });
});

describe('brandLines', () => {
  it('states the brand facts as constraints, without kinds', () => {
    expect(brandLines([item('Our voice is warm and plain.', { kind: 'brand' })])).toBe(
      'Brand facts to honour:\n- Our voice is warm and plain.',
    );
    expect(brandLines([])).toBe('');
  });
});
