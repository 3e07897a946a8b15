import { z } from 'zod';
import type { GuardrailRules } from '@raptorflow/data/runs/flow-inputs';

export const violationSchema = z.object({
  kind: z.enum(['banned_phrase', 'banned_claim', 'missing_disclaimer']),
  text: z.string(),
});

export const guardianResultSchema = z.object({
  verdict: z.enum(['pass', 'fail']),
  violations: z.array(violationSchema),
});

export type GuardrailViolation = z.output<typeof violationSchema>;
export type GuardianResult = z.output<typeof guardianResultSchema>;

/**
 * Case-folded, Unicode-normalised (so full-width letters and ligatures match), typographic quotes and
 * dashes made plain, every run of whitespace one space: "Guaranteed\n  RESULTS" matches "guaranteed results".
 */
export function normalise(text: string): string {
  return text
    .normalize('NFKC')
    .toLowerCase()
    .replace(/[\u2018\u2019\u201B]/g, "'")
    .replace(/[\u201C\u201D\u201F]/g, '"')
    .replace(/[\u2010-\u2015]/g, '-')
    .replace(/\s+/g, ' ')
    .trim();
}

const WORD = /[\p{L}\p{N}]/u;

/**
 * Whether `needle` occurs in `haystack` (both normalised) as whole words at its edges: the banned phrase
 * "free" flags "100% free" but not "carefree" or "freedom". Edges that are punctuation match anywhere.
 */
export function containsPhrase(haystack: string, needle: string): boolean {
  if (!needle) return false;
  const wordStart = WORD.test(needle[0]!);
  const wordEnd = WORD.test(needle[needle.length - 1]!);
  for (let at = haystack.indexOf(needle); at !== -1; at = haystack.indexOf(needle, at + 1)) {
    const before = at > 0 ? haystack[at - 1]! : '';
    const after = haystack[at + needle.length] ?? '';
    if ((!wordStart || !WORD.test(before)) && (!wordEnd || !WORD.test(after))) return true;
  }
  return false;
}

/** Arbiter's check of content against a workspace's guardrails; pure, so it costs no model call. */
export function checkContent(content: string, rules: GuardrailRules): GuardianResult {
  const text = normalise(content);
  const violations: GuardrailViolation[] = [];
  const seen = new Set<string>();
  const check = (list: readonly string[], kind: GuardrailViolation['kind'], violatedWhenFound: boolean) => {
    for (const rule of list) {
      const needle = normalise(rule);
      if (!needle || seen.has(`${kind}\0${needle}`)) continue;
      seen.add(`${kind}\0${needle}`);
      if (containsPhrase(text, needle) === violatedWhenFound) violations.push({ kind, text: rule.trim() });
    }
  };
  check(rules.banned_phrases, 'banned_phrase', true);
  check(rules.banned_claims, 'banned_claim', true);
  check(rules.required_disclaimers, 'missing_disclaimer', false);
  return { verdict: violations.length === 0 ? 'pass' : 'fail', violations };
}

/** The required disclaimers `content` still lacks, as the rules spell them. */
export function missingDisclaimers(content: string, rules: GuardrailRules): string[] {
  return checkContent(content, {
    banned_phrases: [],
    banned_claims: [],
    required_disclaimers: rules.required_disclaimers,
  }).violations.map((v) => v.text);
}
