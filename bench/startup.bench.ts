import { execFileSync, spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { withDefaultUser } from '../src/core/db/database.js';
import { distIsCurrent } from '../scripts/build-state.js';
import type { Bench } from './run.js';
import { percentile, ratio } from './support.js';
import { bySize } from './size.js';
import { freePort } from '../test/support/server-process.js';

const BIN = path.resolve('bin/tenantry.js');
const REPEAT = bySize({ quick: 1, default: 5 });
const STARTS = bySize({ quick: 1, default: 3 });

/** How tenantry runs: the compiled build, or today's way before it (TypeScript sources through tsx). */
type Build = 'dist' | 'source';

function envFor(build: Build, extra: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, TENANTRY_LOG_LEVEL: 'warn', TENANTRY_ADMIN_PASSWORD: 'Bench-Passw0rd!', ...extra };
  delete env.DATABASE_URL;
  if (extra.DATABASE_URL) env.DATABASE_URL = extra.DATABASE_URL;
  if (build === 'source') env.TENANTRY_FROM_SOURCE = '1';
  return env;
}

function median(samples: number[]): number {
  return percentile(
    [...samples].sort((a, b) => a - b),
    50,
  );
}

const s = (ms: number) => `${(ms / 1000).toFixed(2)} s`;

function timeCommand(args: string[], env: NodeJS.ProcessEnv): number {
  const t = performance.now();
  const r = spawnSync(process.execPath, [BIN, ...args], { env, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`tenantry ${args.join(' ')} failed: ${r.stderr}`);
  return performance.now() - t;
}

/** Milliseconds from spawning `tenantry start` to the first /healthz 200; the server keeps running. */
async function timeStart(env: NodeJS.ProcessEnv): Promise<{ ms: number; stop: () => Promise<void> }> {
  const port = await freePort();
  const t = performance.now();
  const child = spawn(process.execPath, [BIN, 'start'], {
    env: { ...env, PORT: String(port), HOST: '127.0.0.1' },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let err = '';
  child.stderr.on('data', (d) => (err += d));
  for (;;) {
    if (child.exitCode !== null) throw new Error(`tenantry start exited: ${err}`);
    if (
      await fetch(`http://127.0.0.1:${port}/healthz`)
        .then((r) => r.status === 200)
        .catch(() => false)
    )
      break;
    await new Promise((r) => setTimeout(r, 20));
  }
  const ms = performance.now() - t;
  const stop = () =>
    new Promise<void>((resolve) => {
      child.once('exit', () => resolve());
      child.kill('SIGTERM');
    });
  return { ms, stop };
}

async function pgDatabase(name: string): Promise<string> {
  const server = process.env.BENCH_DATABASE_URL ?? 'postgres://127.0.0.1:5432/test';
  const admin = new pg.Client({ connectionString: withDefaultUser(server) });
  await admin.connect();
  await admin.query(`drop database if exists ${name} with (force)`);
  await admin.query(`create database ${name}`);
  await admin.end();
  const url = new URL(server);
  url.pathname = `/${name}`;
  return url.toString();
}

async function dropPg(name: string): Promise<void> {
  const admin = new pg.Client({ connectionString: withDefaultUser(process.env.BENCH_DATABASE_URL ?? 'postgres://127.0.0.1:5432/test') });
  await admin.connect();
  await admin.query(`drop database if exists ${name} with (force)`);
  await admin.end();
}

function row(label: string, figure: number, baseline: number): void {
  console.log(`${label.padEnd(58)} ${s(figure).padStart(8)}   today's way ${s(baseline).padStart(8)}   ${ratio(figure, baseline)}`);
}

/**
 * `tenantry --help`, a CLI command while the server runs, and `npm start` to the first /healthz,
 * each beside today's way measured in the same run (sources through tsx, every command module
 * loaded; on the embedded database a command needed the server stopped).
 */
export const startupBench: Bench = {
  name: 'startup',
  async run() {
    if (!distIsCurrent()) {
      console.log('building dist/ first (npm run build)');
      execFileSync(process.execPath, ['scripts/build.js'], { stdio: 'inherit' });
    }
    const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'tenantry-bench-start-'));
    try {
      const help = (build: Build) =>
        median(
          Array.from({ length: REPEAT }, () =>
            timeCommand(build === 'dist' ? ['--help'] : ['help'], envFor(build, { TENANTRY_DATA_DIR: tmp })),
          ),
        );
      row('tenantry --help (target < 0.3 s)', help('dist'), help('source'));

      for (const engine of ['pglite', 'postgres'] as const) {
        const dbName = `tenantry_bench_start_${process.pid}`;
        const extra = (dir: string): Promise<NodeJS.ProcessEnv> =>
          engine === 'pglite'
            ? Promise.resolve({ TENANTRY_DATA_DIR: dir })
            : pgDatabase(`${dbName}_${path.basename(dir).replace(/\W/g, '')}`).then((url) => ({
                TENANTRY_DATA_DIR: dir,
                DATABASE_URL: url,
              }));
        // New data directory / empty database, then the same one again.
        const starts = {
          new: { dist: [] as number[], source: [] as number[] },
          existing: { dist: [] as number[], source: [] as number[] },
        };
        const existingEnv: Partial<Record<Build, NodeJS.ProcessEnv>> = {};
        for (let i = 0; i < STARTS; i++) {
          for (const build of ['dist', 'source'] as const) {
            const env = envFor(build, await extra(path.join(tmp, `${engine}${build}${i}`)));
            const first = await timeStart(env);
            starts.new[build].push(first.ms);
            await first.stop();
            const again = await timeStart(env);
            starts.existing[build].push(again.ms);
            await again.stop();
            existingEnv[build] = env;
          }
        }
        row(`${engine}: npm start → /healthz, new database (target < 4 s)`, median(starts.new.dist), median(starts.new.source));
        row(
          `${engine}: npm start → /healthz, existing database (target < 2 s)`,
          median(starts.existing.dist),
          median(starts.existing.source),
        );

        // A command in a second terminal while the server runs, against today's in-process command with no server.
        const server = await timeStart(existingEnv.dist!);
        const live = median(Array.from({ length: REPEAT }, () => timeCommand(['customer', 'list'], existingEnv.dist!)));
        await server.stop();
        const today = median(Array.from({ length: REPEAT }, () => timeCommand(['customer', 'list'], existingEnv.source!)));
        row(`${engine}: tenantry customer list while serving (target < 0.5 s)`, live, today);
        if (engine === 'postgres')
          for (const build of ['dist', 'source']) for (let i = 0; i < STARTS; i++) await dropPg(`${dbName}_${engine}${build}${i}`);
      }
    } finally {
      fs.rmSync(tmp, { recursive: true, force: true });
    }
  },
};
