import { medianInterval } from '../../bench/args';

/** The chance that the interval from the l-th smallest to the l-th largest of k samples holds their median, summed term by term. */
function coverageOf(k: number, l: number): number {
  let c = 1;
  let sum = 0;
  for (let j = 0; j <= k; j++) {
    if (j > 0) c = c * (k - j + 1) / j;
    if (j >= l && j <= k - l) sum += c;
  }
  return sum / 2 ** k;
}

describe('medianInterval (npm run bench -- --pairs)', () => {
  test('gives the textbook ranks for 9 and 15 samples', () => {
    // GIVEN 9 and 15 pairs  WHEN the interval is asked  THEN it is x(2)..x(8) and x(4)..x(12) (about 96%)
    expect(medianInterval(9)).toEqual({ lower: 2, upper: 8, coverage: expect.closeTo(0.961, 3) });
    expect(medianInterval(15)).toEqual({ lower: 4, upper: 12, coverage: expect.closeTo(0.965, 3) });
  });

  test('falls back to the extremes when no narrower interval reaches 95%', () => {
    // GIVEN 5 samples  WHEN the interval is asked  THEN it spans all of them, with the coverage they really give
    expect(medianInterval(5)).toEqual({ lower: 1, upper: 5, coverage: 1 - 2 / 32 });
  });

  test('is the narrowest interval of at least 95% for every count from 6 to 80', () => {
    for (let k = 6; k <= 80; k++) {
      // GIVEN k samples  WHEN the interval is asked
      const { lower, upper, coverage } = medianInterval(k);
      // THEN its ranks are symmetric, its stated coverage is the real one, at least 95%, and one rank narrower is under 95%
      expect(upper).toBe(k + 1 - lower);
      expect(coverage).toBeCloseTo(coverageOf(k, lower), 12);
      expect(coverage).toBeGreaterThanOrEqual(0.95);
      expect(coverageOf(k, lower + 1)).toBeLessThan(0.95);
    }
  });
});
