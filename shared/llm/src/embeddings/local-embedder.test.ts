import { embeddingWords, localEmbedding, unitVector } from './local-embedder';

const dot = (a: number[], b: number[]) => a.reduce((s, x, i) => s + x * b[i]!, 0);
const D = 768;

describe('localEmbedding', () => {
  it('is deterministic, of the asked length and of unit length', () => {
    const a = localEmbedding('Oat milk lattes in Nordic cafés', D);
    expect(a).toHaveLength(D);
    expect(localEmbedding('Oat milk lattes in Nordic cafés', D)).toEqual(a);
    expect(dot(a, a)).toBeCloseTo(1, 10);
    expect(localEmbedding('Oat milk lattes', 256)).toHaveLength(256);
  });

  it('scores related texts above unrelated ones', () => {
    const query = localEmbedding('oat milk coffee in Scandinavian cafes', D);
    const related = localEmbedding('Nordic cafés are switching their lattes to oat milk', D);
    const unrelated = localEmbedding('Quarterly webinar on B2B cybersecurity compliance', D);
    expect(dot(query, related)).toBeGreaterThan(0.2);
    expect(dot(query, related)).toBeGreaterThan(dot(query, unrelated) + 0.15);
  });

  it('sees plurals, accents and case as near the same word', () => {
    const a = localEmbedding('Café', D);
    expect(dot(a, localEmbedding('cafes', D))).toBeGreaterThan(0.5);
    expect(dot(a, localEmbedding('CAFE', D))).toBeCloseTo(1, 6);
  });

  it('gives a zero vector to text without letters or digits, and keeps stop-word-only text', () => {
    expect(localEmbedding('…!?', D).every((x) => x === 0)).toBe(true);
    expect(dot(localEmbedding('the', D), localEmbedding('the', D))).toBeCloseTo(1, 10);
  });
});

describe('embeddingWords and unitVector', () => {
  it('splits on anything but letters and digits, without accents', () => {
    expect(embeddingWords('Åre: ski-resort №1, 2027!')).toEqual(['are', 'ski', 'resort', 'no1', '2027']);
  });
  it('scales to length one and leaves zeros alone', () => {
    expect(unitVector([3, 4])).toEqual([0.6, 0.8]);
    expect(unitVector([0, 0])).toEqual([0, 0]);
  });
});
