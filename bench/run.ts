/**
 * `npm run bench`: every benchmark prints its figures. Pick some with
 * `npm run bench -- tenancy cortex` (names below); none = all.
 */
import { tenancyBench } from './tenancy.bench.js';
import { provisioningBench } from './provisioning.bench.js';
import { billingBench } from './billing.bench.js';
import { cortexBench } from './cortex.bench.js';
import { psaBench } from './psa.bench.js';

export interface Bench {
  name: string;
  run(): Promise<void>;
}

const BENCHES: Bench[] = [tenancyBench, billingBench, cortexBench, psaBench, provisioningBench];

const wanted = process.argv.slice(2);
for (const bench of BENCHES) {
  if (wanted.length && !wanted.includes(bench.name)) continue;
  console.log(`\n## ${bench.name}`);
  await bench.run();
}
