/**
 * Builds the web console (web/ → web/dist) and prints what a browser downloads before the
 * first page shows: the entry script plus the chunks index.html preloads, gzip-compressed.
 * `npm ci` runs it (prepare); `npm run build:web` runs it by hand.
 */
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { build } from 'vite';
import { measureConsoleBundle, writeBuildReport, CONSOLE_DIST, INITIAL_JS_BUDGET_BYTES } from '../src/api/web-console/bundle-report.js';

const started = performance.now();
await build({ configFile: fileURLToPath(new URL('../web/vite.config.ts', import.meta.url)), logLevel: 'warn' });
const buildSeconds = (performance.now() - started) / 1000;
const report = { ...measureConsoleBundle(CONSOLE_DIST), buildSeconds: Number(buildSeconds.toFixed(1)) };
writeBuildReport(CONSOLE_DIST, report);
const kb = (n: number) => `${(n / 1024).toFixed(1)} kB`;
console.log(
  `console built in ${report.buildSeconds} s: initial JS ${kb(report.initialJsGzipBytes)} gzip ` +
    `(budget ${kb(INITIAL_JS_BUDGET_BYTES)}), all JS ${kb(report.totalJsGzipBytes)} gzip in ${report.chunks} chunks`,
);
if (report.initialJsGzipBytes > INITIAL_JS_BUDGET_BYTES) {
  console.error("the console's initial JavaScript is over its budget: split a page out of the entry chunk");
  process.exitCode = 1;
}
