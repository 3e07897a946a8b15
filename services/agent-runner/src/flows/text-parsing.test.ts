import { LocalProvider } from '@raptorflow/llm/providers/local.provider';
import { parseTasks, parsePlan } from './matrix.flow';
import { parseBrief } from './research.flow';
import { cleanText, leadText, paragraph, parseListItems, splitSections } from './text-parsing';

describe('parseListItems', () => {
  it('reads numbered lists in their usual spellings', () => {
    expect(parseListItems('1. One\n2) Two\n(3) Three\n10. Ten')).toEqual(['One', 'Two', 'Three', 'Ten']);
  });

  it('reads bulleted lists and drops markdown emphasis and heading marks', () => {
    expect(parseListItems('- **Bold** idea\n* second\n• third\n### 4. Fourth')).toEqual([
      'Bold idea',
      'second',
      'third',
      'Fourth',
    ]);
  });

  it('ignores a preamble and a closing remark', () => {
    const text = 'Here are the questions:\n\n1. Who buys?\n2. Why now?\n\nLet me know if you need more.';
    expect(parseListItems(text)).toEqual(['Who buys?', 'Why now?']);
  });

  it('folds wrapped lines and sub-bullets into the item above', () => {
    const text = '1. **Audience**:\n   Busy parents in cities\n   - mostly on mobile\n2. Channels';
    expect(parseListItems(text)).toEqual(['Audience Busy parents in cities; mostly on mobile', 'Channels']);
  });

  it('falls back to the non-empty lines, dropping "Heading:" lines when there is other text', () => {
    expect(parseListItems('Ideas:\nFirst idea\n\nSecond idea')).toEqual(['First idea', 'Second idea']);
    expect(parseListItems('Only a heading:')).toEqual(['Only a heading']);
    expect(parseListItems('   \n')).toEqual([]);
  });

  it('is not fooled by negative numbers, rules or emphasis at a line start', () => {
    expect(parseListItems('-5% churn\n---\n*note*')).toEqual(['-5% churn', '---', '*note*']);
  });

  it("parses the offline local provider's answers", async () => {
    const local = new LocalProvider();
    const r = await local.generate({
      model: 'gemini-2.5-flash',
      messages: [{ role: 'user', content: 'Research topic: oat milk for gyms' }],
      maxTokens: 500,
      signal: new AbortController().signal,
    });
    const items = parseListItems(r.text);
    expect(items.length).toBeGreaterThanOrEqual(3);
    expect(items.every((i) => i.startsWith('Focus the'))).toBe(true);
    expect(leadText(r.text)).toBe('Notes on Research topic: oat milk for gyms');
  });
});

describe('sections', () => {
  it('splits labelled sections in plain, bold and markdown-heading spellings', () => {
    const text = 'Intro\n**Summary:** It works.\n## Key points\n1. A\n2. B\nNEXT STEPS:\n- Do it';
    const s = splitSections(text, ['summary', 'key points', 'next steps']);
    expect(s.get('summary')).toBe('It works.');
    expect(parseListItems(s.get('key points')!)).toEqual(['A', 'B']);
    expect(parseListItems(s.get('next steps')!)).toEqual(['Do it']);
  });

  it('does not take a sentence that starts with a label word for a label', () => {
    expect(splitSections('Summary of findings is below', ['summary']).size).toBe(0);
  });

  it('paragraph prefers prose, then the list', () => {
    expect(paragraph('Short and clear.\n1. x')).toBe('Short and clear.');
    expect(paragraph('1. a\n2. b')).toBe('a b');
    expect(cleanText('  ## **Title**  ')).toBe('Title');
  });

  it('parseBrief reads a labelled brief and an unlabelled one', () => {
    expect(parseBrief('SUMMARY: Go.\nKEY POINTS:\n1. a\n2. b\nNEXT STEPS:\n1. c')).toEqual({
      summary: 'Go.',
      key_points: ['a', 'b'],
      next_steps: ['c'],
    });
    expect(parseBrief('Notes on x:\n1. a\n2. b')).toEqual({
      summary: 'Notes on x',
      key_points: ['a', 'b'],
      next_steps: [],
    });
  });

  it('parsePlan reads the summary and the phases', () => {
    expect(parsePlan('Summary: Win.\nPhases:\n1. Tease\n2. Launch')).toEqual({
      summary: 'Win.',
      phases: ['Tease', 'Launch'],
    });
  });
});

describe('parseTasks', () => {
  it('takes the week from the task and keeps the order within a week', () => {
    const text = '1. Week 2: Email\n2. Week 1: Brief\n3. (Week 1) Assets\n4. Weeks 3-4: Ads';
    expect(parseTasks(text, 4)).toEqual([
      { week: 1, task: 'Brief' },
      { week: 1, task: 'Assets' },
      { week: 2, task: 'Email' },
      { week: 3, task: 'Ads' },
    ]);
  });

  it('spreads unweeked tasks over the horizon and clamps weeks to it', () => {
    expect(parseTasks('1. a\n2. b\n3. c\n4. d', 2).map((t) => t.week)).toEqual([1, 1, 2, 2]);
    expect(parseTasks('1. Week 9: late\n2. Week 0: early', 4).map((t) => t.week)).toEqual([1, 4]);
    expect(parseTasks('1. Weekly newsletter', 3)).toEqual([{ week: 1, task: 'Weekly newsletter' }]);
  });
});
