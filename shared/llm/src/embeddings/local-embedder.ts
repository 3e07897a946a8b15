/**
 * The offline embedder behind the local stand-in: deterministic, free, and good enough that texts sharing
 * words (or parts of words: plurals, typos, compounds) really score higher than unrelated ones. It hashes
 * features into a fixed number of dimensions ("the hashing trick"):
 * - each content word (stop words dropped, plurals folded into their singular),
 * - each pair of neighbouring content words (so "oat milk" means more than "oat" and "milk" apart),
 * - each character trigram of each word padded with spaces (so "café" ≈ "cafés", "latte" ≈ "lattes"),
 * with a signed hash (collisions cancel out on average instead of adding up), a sublinear term weight, and
 * unit length, so a dot product is the cosine similarity.
 */

const STOP_WORDS = new Set(
  (
    'a an and are as at be but by for from has have in into is it its of on or our so that the their them ' +
    'then there these they this to was we were what when which who will with you your'
  ).split(' '),
);

const WORD_WEIGHT = 1;
const PAIR_WEIGHT = 0.7;
const TRIGRAM_WEIGHT = 0.35;

/** FNV-1a over UTF-16 code units, then a murmur3 finaliser so low and high bits both mix well. */
function hash(text: string, seed: number): number {
  let h = (0x811c9dc5 ^ seed) >>> 0;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** Lower case without accents, split on anything that is not a letter or a digit. */
export function embeddingWords(text: string): string[] {
  return (
    text
      .normalize('NFKD')
      .replace(/\p{M}+/gu, '')
      .toLowerCase()
      .match(/[\p{L}\p{N}]+/gu) ?? []
  );
}

/** The crudest English stemmer that pays: plurals fold into their singular ("cafés" → "cafe"). */
function stem(word: string): string {
  if (word.length > 4 && word.endsWith('ies')) return `${word.slice(0, -3)}y`;
  if (word.length > 3 && word.endsWith('s') && !word.endsWith('ss')) return word.slice(0, -1);
  return word;
}

/** A unit vector of `dimensions` numbers for `text` (all zeros when it has no letters or digits at all). */
export function localEmbedding(text: string, dimensions: number): number[] {
  const counts = new Map<string, number>();
  const add = (feature: string) => counts.set(feature, (counts.get(feature) ?? 0) + 1);
  const words = embeddingWords(text);
  const content = words.filter((w) => !STOP_WORDS.has(w));
  const stems = content.map(stem);
  for (const w of stems) add(`w:${w}`);
  for (let i = 1; i < stems.length; i++) add(`p:${stems[i - 1]} ${stems[i]}`);
  for (const w of words.length > 0 && content.length === 0 ? words : content) {
    const padded = ` ${w} `;
    for (let i = 0; i + 3 <= padded.length; i++) add(`t:${padded.slice(i, i + 3)}`);
  }
  const v = new Float64Array(dimensions);
  for (const [feature, count] of counts) {
    const h = hash(feature, 0);
    const sign = hash(feature, 0x9e3779b9) & 1 ? 1 : -1;
    // Sublinear: a word said ten times matters more than once, but not ten times more.
    v[h % dimensions]! += sign * weightOf(feature) * (1 + Math.log(count));
  }
  return unitVector(v);
}

function weightOf(feature: string): number {
  if (feature.startsWith('w:')) return WORD_WEIGHT;
  if (feature.startsWith('p:')) return PAIR_WEIGHT;
  return TRIGRAM_WEIGHT;
}

/** Scales to length 1 (Gemini's vectors below 3072 dimensions are not normalised either); zeros stay zero. */
export function unitVector(v: ArrayLike<number>): number[] {
  let sum = 0;
  for (let i = 0; i < v.length; i++) sum += v[i]! * v[i]!;
  const norm = Math.sqrt(sum);
  const out = new Array<number>(v.length);
  for (let i = 0; i < v.length; i++) out[i] = norm > 0 ? v[i]! / norm : 0;
  return out;
}
