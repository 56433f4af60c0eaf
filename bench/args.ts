/*
 * Helpers every benchmark script shares: reading `--name value` options and taking medians.
 */

/** The value after `--name` on the command line, or `fallback`. */
export function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i === -1 ? fallback : process.argv[i + 1];
}

/** The median of the values (the mean of the middle two for an even count). */
export function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
}

/**
 * A distribution-free confidence interval for the median of `k` samples, as the 1-based ranks of two order statistics:
 * the interval from the l-th smallest to the l-th largest misses the median with the chance 2 * P(X <= l - 1) for X
 * binomial(k, 1/2), so l is the largest rank that keeps that chance at or under 5% (the extremes when none does).
 */
export function medianInterval(k: number): { lower: number; upper: number; coverage: number } {
  const choose = (n: number, r: number) => { let c = 1; for (let i = 1; i <= r; i++) c = c * (n - r + i) / i; return c; };
  let below = 2 ** -k; // P(X <= 0)
  let lower = 1;
  let missed = 2 * below;
  for (let j = 1; j < k / 2; j++) {
    below += choose(k, j) / 2 ** k; // P(X <= j)
    if (2 * below > 0.05) break;
    lower = j + 1;
    missed = 2 * below;
  }
  return { lower, upper: k + 1 - lower, coverage: 1 - missed };
}
