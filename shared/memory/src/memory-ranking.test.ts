import { candidatePool, reciprocalRankFusion, RRF_K, searchTerms } from './memory-ranking';

describe('reciprocalRankFusion', () => {
  it('puts an item found by both lists above items found by one', () => {
    const fused = reciprocalRankFusion([{ ids: ['a', 'b', 'c'] }, { ids: ['c', 'd'] }], 10);
    expect(fused[0]!.id).toBe('c');
    expect(fused[0]!.score).toBeCloseTo(1 / (RRF_K + 3) + 1 / (RRF_K + 1), 12);
    expect(fused[0]!.ranks).toEqual([3, 1]);
    expect(fused.map((f) => f.id)).toEqual(['c', 'a', 'b', 'd']);
  });

  it('breaks ties by the first list, then by id, and honours the limit', () => {
    expect(reciprocalRankFusion([{ ids: ['x', 'y'] }, { ids: ['y', 'x'] }], 10).map((f) => f.id)).toEqual([
      'x',
      'y',
    ]);
    expect(reciprocalRankFusion([{ ids: [] }, { ids: ['b', 'a'] }], 1).map((f) => f.id)).toEqual(['b']);
    expect(reciprocalRankFusion([{ ids: [] }, { ids: [] }], 5)).toEqual([]);
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
