/**
 * A long-running process for the process-safety tests. argv[2]:
 * - `reject`: a background task's promise rejects with nobody awaiting it (an interval keeps the
 *   process busy, as a server's sockets would: without the rule it would live on half-alive);
 * - `throw`: a timer callback throws;
 * - `heap`: relaunches under TENANTRY_MAX_HEAP_MB and prints the heap limit V8 runs with, then exits 3.
 */
import { loadConfig } from '../../src/core/config.js';
import { createLogger } from '../../src/core/logger.js';
import { exitOnUnhandledErrors, heapLimitMb, relaunchWithHeapLimit } from '../../src/core/process-safety.js';

const logger = createLogger('info');
const mode = process.argv[2];
if (mode === 'heap') {
  if (!(await relaunchWithHeapLimit(loadConfig().maxHeapMb, logger))) {
    console.log(JSON.stringify({ heapLimitMb: heapLimitMb() }));
    process.exit(3);
  }
} else {
  exitOnUnhandledErrors(logger);
  setInterval(() => undefined, 1_000);
  setTimeout(() => {
    if (mode === 'throw') throw new Error('boom in a timer');
    void (async () => {
      throw new Error('boom in a background task');
    })();
  }, 10);
}
