import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';

/** Where `npm run build:web` writes the console (served at / by the same server). */
export const CONSOLE_DIST = fileURLToPath(new URL('../../../web/dist', import.meta.url));

/** Issue 12: the JavaScript needed before the first page shows stays under 250 kB gzip. */
export const INITIAL_JS_BUDGET_BYTES = 250 * 1024;

export interface ConsoleBundleReport {
  /** Entry script plus the chunks index.html preloads, each gzip-compressed (level 9). */
  initialJsGzipBytes: number;
  initialFiles: string[];
  /** Every JavaScript chunk, the lazily loaded pages included. */
  totalJsGzipBytes: number;
  chunks: number;
  buildSeconds?: number;
}

const REPORT_FILE = 'build-report.json';

/** Reads the built index.html and measures what the browser loads up front. */
export function measureConsoleBundle(dist: string): ConsoleBundleReport {
  const html = fs.readFileSync(path.join(dist, 'index.html'), 'utf8');
  const initialFiles = [
    ...html.matchAll(/<script[^>]+type="module"[^>]+src="\/([^"]+)"/g),
    ...html.matchAll(/<link[^>]+rel="modulepreload"[^>]+href="\/([^"]+)"/g),
  ].map((m) => m[1]);
  const gz = (file: string) => gzipSync(fs.readFileSync(path.join(dist, file)), { level: 9 }).length;
  const allJs = fs.readdirSync(path.join(dist, 'assets')).filter((f) => f.endsWith('.js'));
  return {
    initialJsGzipBytes: initialFiles.reduce((sum, f) => sum + gz(f), 0),
    initialFiles,
    totalJsGzipBytes: allJs.reduce((sum, f) => sum + gz(path.join('assets', f)), 0),
    chunks: allJs.length,
  };
}

export function writeBuildReport(dist: string, report: ConsoleBundleReport): void {
  fs.writeFileSync(path.join(dist, REPORT_FILE), `${JSON.stringify(report, null, 2)}\n`);
}

export function readBuildReport(dist: string): ConsoleBundleReport | undefined {
  const file = path.join(dist, REPORT_FILE);
  return fs.existsSync(file) ? (JSON.parse(fs.readFileSync(file, 'utf8')) as ConsoleBundleReport) : undefined;
}
