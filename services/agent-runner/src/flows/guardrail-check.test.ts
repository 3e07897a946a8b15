import { checkContent, containsPhrase, missingDisclaimers, normalise } from './guardrail-check';

const rules = (
  r: Partial<Record<'banned_phrases' | 'banned_claims' | 'required_disclaimers', string[]>>,
) => ({
  banned_phrases: [],
  banned_claims: [],
  required_disclaimers: [],
  ...r,
});

describe('checkContent', () => {
  it('passes clean content and content under empty rules', () => {
    expect(checkContent('Fresh bread daily.', rules({}))).toEqual({ verdict: 'pass', violations: [] });
    expect(checkContent('', rules({}))).toEqual({ verdict: 'pass', violations: [] });
  });

  it('flags banned phrases and claims case-insensitively across whitespace', () => {
    const r = checkContent(
      'GUARANTEED\n   Results — the  BEST in town!',
      rules({ banned_phrases: ['guaranteed results'], banned_claims: ['best in town'] }),
    );
    expect(r).toEqual({
      verdict: 'fail',
      violations: [
        { kind: 'banned_phrase', text: 'guaranteed results' },
        { kind: 'banned_claim', text: 'best in town' },
      ],
    });
  });

  it('flags each missing disclaimer and accepts one that is present in another case or spacing', () => {
    const r = checkContent(
      'Buy now. terms   and conditions APPLY.',
      rules({ required_disclaimers: ['Terms and conditions apply.', 'Not financial advice.'] }),
    );
    expect(r.violations).toEqual([{ kind: 'missing_disclaimer', text: 'Not financial advice.' }]);
  });

  it('matches whole words at the edges only', () => {
    const r = rules({ banned_phrases: ['free'] });
    expect(checkContent('A carefree day of freedom', r).verdict).toBe('pass');
    expect(checkContent('100% FREE!', r).verdict).toBe('fail');
    expect(checkContent('free', r).verdict).toBe('fail');
    expect(checkContent('It is 100% free', rules({ banned_phrases: ['100%'] })).verdict).toBe('fail');
  });

  it('treats typographic quotes, dashes and full-width letters like their plain forms', () => {
    expect(normalise('Don’t — ＦＲＥＥ')).toBe("don't - free");
    expect(checkContent('Don’t miss out', rules({ banned_phrases: ["don't miss out"] })).verdict).toBe(
      'fail',
    );
  });

  it('reports a rule listed twice once', () => {
    const r = checkContent('x', rules({ required_disclaimers: ['Ad.', ' ad. '] }));
    expect(r.violations).toHaveLength(1);
  });

  it('missingDisclaimers lists what is still absent, as spelled in the rules', () => {
    expect(missingDisclaimers('Ad. Hello', rules({ required_disclaimers: ['Ad.', '#Sponsored'] }))).toEqual([
      '#Sponsored',
    ]);
    expect(containsPhrase('a #sponsored post', '#sponsored')).toBe(true);
  });
});
