import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import type { TestContext } from '../support/test-db.js';

/**
 * Real `tenantry worker` processes, or servers (`tenantry start`, which runs the same workers
 * in-process), on a test's PostgreSQL database, for kill -9 tests. Job leases are short (3 s) so a
 * survivor marks a dead run Failed soon; every wait is on a condition.
 */
const ROOT = path.resolve(import.meta.dirname, '../..');

export class WorkerProcesses {
  readonly #children: ChildProcess[] = [];
  constructor(private readonly t: () => TestContext) {}

  start(name: string, command: 'worker' | 'start' = 'worker'): ChildProcess {
    const child = spawn(process.execPath, [path.join(ROOT, 'bin/tenantry.js'), command], {
      cwd: ROOT,
      env: {
        ...process.env,
        // A server listens on a port of its own (unused here: the test drives its jobs through the database).
        PORT: '0',
        HOST: '127.0.0.1',
        DATABASE_URL: this.t().url!,
        TENANTRY_DATA_DIR: this.t().dataDir,
        TENANTRY_LOG_LEVEL: 'warn',
        TENANTRY_JOBS_POLL_MS: '200',
        TENANTRY_JOBS_LEASE_SECONDS: '3',
        TENANTRY_WORKER_NAME: name,
      },
      stdio: ['ignore', 'ignore', 'inherit'],
    });
    this.#children.push(child);
    return child;
  }

  /** Stops the processes still running (kill -9) and waits until they are gone. */
  async stopAll(): Promise<void> {
    this.killAll();
    await Promise.all(this.#children.map(exited));
    this.#children.length = 0;
  }

  killAll(): void {
    for (const c of this.#children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  }
}

export const exited = (p: ChildProcess) =>
  new Promise<void>((resolve) => (p.exitCode !== null || p.signalCode !== null ? resolve() : p.once('exit', () => resolve())));

/** Polls `probe` until it returns something truthy; a generous deadline turns a hang into a named failure. */
export async function until<T>(what: string, probe: () => Promise<T | undefined | false>): Promise<T> {
  const deadline = Date.now() + 120_000;
  for (;;) {
    const v = await probe();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for: ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
