/**
 * How big the benchmarks run: `--quick` (CI: every benchmark at a small size, to keep them from
 * rotting), the default, or `--large` (the scale point an MSP sizes its server by).
 */
export type BenchSize = 'quick' | 'default' | 'large';

export const BENCH_SIZE: BenchSize = process.argv.includes('--quick') ? 'quick' : process.argv.includes('--large') ? 'large' : 'default';

/** The value for the current size; `large` falls back to the default where a benchmark has no large size. */
export function bySize<T>(sizes: { quick: T; default: T; large?: T }): T {
  if (BENCH_SIZE === 'large') return sizes.large ?? sizes.default;
  return sizes[BENCH_SIZE];
}
