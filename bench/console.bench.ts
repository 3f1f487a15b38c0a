import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { CONSOLE_DIST, INITIAL_JS_BUDGET_BYTES, measureConsoleBundle, readBuildReport } from '../src/api/web-console/bundle-report.js';
import { BENCH_SIZE } from './size.js';
import type { Bench } from './run.js';

const kb = (bytes: number) => `${(bytes / 1024).toFixed(1)} kB`;

/**
 * The web console's first download (entry script + preloaded chunks, gzip) against its 250 kB
 * budget, and the build time. `--quick` measures the build `npm ci` made; otherwise it rebuilds.
 */
export const consoleBench: Bench = {
  name: 'console',
  async run() {
    if (BENCH_SIZE !== 'quick') {
      execFileSync(process.execPath, ['--import', 'tsx', fileURLToPath(new URL('../scripts/build-web.ts', import.meta.url))], {
        stdio: 'inherit',
      });
    }
    const report = measureConsoleBundle(CONSOLE_DIST);
    const built = readBuildReport(CONSOLE_DIST);
    const share = report.initialJsGzipBytes / INITIAL_JS_BUDGET_BYTES;
    console.log(
      `initial JS       ${kb(report.initialJsGzipBytes)} gzip in ${report.initialFiles.length} file(s): ${share.toFixed(2)}× the ${kb(INITIAL_JS_BUDGET_BYTES)} budget`,
    );
    console.log(`all JS           ${kb(report.totalJsGzipBytes)} gzip in ${report.chunks} chunks (pages load on demand)`);
    if (built?.buildSeconds !== undefined) console.log(`build time       ${built.buildSeconds} s`);
    if (share > 1) throw new Error("the console's initial JavaScript is over its budget");
  },
};
