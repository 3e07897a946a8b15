import {
  decimalToNano,
  decimalToNumber,
  nanoToDecimal,
  nanoToNumber,
  percentOf,
  ratioOf,
  sumNano,
  usdToNano,
} from './money';

describe('money: exact sums of many small amounts', () => {
  it('0.1 + 0.2 is 0.3 (a float sum is not)', () => {
    expect(0.1 + 0.2).not.toBe(0.3);
    expect(nanoToDecimal(sumNano([0.1, 0.2]))).toBe('0.300000000');
    expect(nanoToNumber(usdToNano(0.1) + usdToNano(0.2))).toBe(0.3);
  });

  it('10,000 calls of $0.000000123 sum to exactly $0.00123, from numbers, decimals or nano', () => {
    const n = 10_000;
    const floatSum = Array.from({ length: n }, () => 0.000000123).reduce((a, b) => a + b, 0);
    expect(floatSum).not.toBe(0.00123);
    expect(nanoToDecimal(sumNano(Array.from({ length: n }, () => 0.000000123)))).toBe('0.001230000');
    expect(nanoToDecimal(sumNano(Array.from({ length: n }, () => '0.0000001230')))).toBe('0.001230000');
    expect(sumNano(Array.from({ length: n }, () => 123n))).toBe(1_230_000n);
  });

  it('a run of mixed step costs sums to the decimal a database SUM gives', () => {
    const steps = [0.000155, 0.0021, 0.07, 0.000000001, 1.1, 2.2];
    expect(nanoToDecimal(sumNano(steps))).toBe('3.372255001');
  });

  it('round-trips a JSON number of USD with up to 9 decimals', () => {
    for (const usd of [0, 0.000000001, 0.075, 12.345678901, 1234567.000000009])
      expect(nanoToNumber(usdToNano(usd))).toBe(usd);
    expect(() => usdToNano(Number.NaN)).toThrow();
  });

  it('reads NUMERIC text (any scale, or an empty SUM) as a JSON number without float arithmetic', () => {
    expect(decimalToNumber('40.5000000000')).toBe(40.5);
    expect(decimalToNumber('0.0012345678')).toBe(0.0012345678);
    expect(() => decimalToNumber('1e3')).toThrow();
    expect(decimalToNumber(null)).toBe(0);
    expect(decimalToNano('-0.000000002')).toBe(-2n);
  });

  it('percentages are integer ratios, truncated to two decimals', () => {
    expect(percentOf(1n, 3n)).toBe(33.33);
    expect(percentOf(2n, 3n)).toBe(66.66);
    expect(percentOf(0n, 0n)).toBe(0);
    expect(percentOf(5n, 0n)).toBe(100);
  });

  it('ratios keep millionths, so a tiny share of a budget still shows', () => {
    expect(ratioOf(1n, 3n)).toBe(0.333333);
    expect(ratioOf(decimalToNano('0.001'), decimalToNano('50'))).toBe(0.00002);
    expect(ratioOf(decimalToNano('75'), decimalToNano('50'))).toBe(1.5);
    expect(ratioOf(0n, 0n)).toBe(0);
    expect(ratioOf(5n, 0n)).toBe(1);
  });
});
