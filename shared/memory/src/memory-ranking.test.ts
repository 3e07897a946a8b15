import { candidatePool, reciprocalRankFusion, RRF_K, searchTerms } from './memory-ranking';

/** A list ranked by strictly falling scores. */
const list = (...ids: string[]) => ({ items: ids.map((id, i) => ({ id, score: 1 - i / 100 })) });

describe('reciprocalRankFusion', () => {
  it('puts an item found by both lists above items found by one', () => {
    const fused = reciprocalRankFusion([list('a', 'b', 'c'), list('c', 'd')], 10);
    expect(fused[0]!.id).toBe('c');
    expect(fused[0]!.score).toBeCloseTo(1 / (RRF_K + 3) + 1 / (RRF_K + 1), 12);
    expect(fused[0]!.ranks).toEqual([3, 1]);
    expect(fused.map((f) => f.id)).toEqual(['c', 'a', 'b', 'd']);
  });

  it('breaks ties by the first list, then by id, and honours the limit', () => {
    expect(reciprocalRankFusion([list('x', 'y'), list('y', 'x')], 10).map((f) => f.id)).toEqual(['x', 'y']);
    expect(reciprocalRankFusion([list(), list('b', 'a')], 1).map((f) => f.id)).toEqual(['b']);
    expect(reciprocalRankFusion([list(), list()], 5)).toEqual([]);
  });

  it('gives equal scores one rank, so a tie never depends on the order it arrived in', () => {
    const tie = (first: string, second: string) =>
      reciprocalRankFusion(
        [
          list('v1', 'a', 'b'),
          {
            items: [
              { id: first, score: 0.5 },
              { id: second, score: 0.5 },
            ],
          },
        ],
        10,
      );
    expect(tie('a', 'b')).toEqual(tie('b', 'a'));
    expect(tie('a', 'b').find((f) => f.id === 'b')!.ranks).toEqual([3, 1]);
  });
});

describe('searchTerms and candidatePool', () => {
  it('keeps letters and digits, once each', () => {
    expect(searchTerms("Zephyr-9X: what's new? zephyr")).toEqual(['zephyr', '9x', 'what', 's', 'new']);
    expect(searchTerms("'); DROP TABLE x; --")).toEqual(['drop', 'table', 'x']);
  });
  it('brings at least 50 and at most 400 candidates', () => {
    expect(candidatePool(1)).toBe(50);
    expect(candidatePool(20)).toBe(80);
    expect(candidatePool(100)).toBe(400);
  });
});
