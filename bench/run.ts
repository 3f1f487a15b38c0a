/**
 * `npm run bench`: every benchmark prints its figures. Pick some with
 * `npm run bench -- tenancy cortex` (names below); none = all. `--quick` runs each at a small
 * size (CI runs that), `--large` at the documented scale point. Any benchmark that throws makes
 * the run exit non-zero, after the others have run.
 */
import { BENCH_SIZE } from './size.js';

export interface Bench {
  name: string;
  run(): Promise<void>;
}

// Loaded on demand: a benchmark not asked for costs nothing, and one that fails to load fails alone.
const BENCHES: Record<string, () => Promise<Bench>> = {
  tenancy: async () => (await import('./tenancy.bench.js')).tenancyBench,
  billing: async () => (await import('./billing.bench.js')).billingBench,
  cortex: async () => (await import('./cortex.bench.js')).cortexBench,
  psa: async () => (await import('./psa.bench.js')).psaBench,
  provisioning: async () => (await import('./provisioning.bench.js')).provisioningBench,
  console: async () => (await import('./console.bench.js')).consoleBench,
  startup: async () => (await import('./startup.bench.js')).startupBench,
  scale: async () => (await import('./scale.bench.js')).scaleBench,
};

const wanted = process.argv.slice(2).filter((a) => !a.startsWith('--'));
const unknown = wanted.filter((name) => !(name in BENCHES));
if (unknown.length) {
  console.error(`unknown benchmark ${unknown.join(', ')}; known: ${Object.keys(BENCHES).join(', ')}`);
  process.exit(2);
}
const failed: string[] = [];
const started = performance.now();
for (const [name, load] of Object.entries(BENCHES)) {
  if (wanted.length && !wanted.includes(name)) continue;
  console.log(`\n## ${name} (${BENCH_SIZE})`);
  const benchStarted = performance.now();
  try {
    await (await load()).run();
  } catch (error) {
    failed.push(name);
    console.error(`benchmark ${name} failed: ${(error as Error).stack ?? String(error)}`);
  }
  console.log(`(${name}: ${((performance.now() - benchStarted) / 1000).toFixed(1)} s)`);
}
console.log(
  `\nbenchmarks done in ${((performance.now() - started) / 1000).toFixed(1)} s${failed.length ? `; FAILED: ${failed.join(', ')}` : ''}`,
);
// Child processes and pools a failed benchmark left open must not keep the run alive.
process.exit(failed.length ? 1 : 0);
