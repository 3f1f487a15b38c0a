import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { TEST_ENGINE } from '../support/engine.js';

const BIN = path.resolve('bin/tenantry.js');
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tenantry-modes-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

/** Runs the CLI under umask 000, the worst case: everything it creates would be world-writable. */
function cli(dataDir: string, args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const env: NodeJS.ProcessEnv = { ...process.env, TENANTRY_DATA_DIR: dataDir, TENANTRY_ADMIN_PASSWORD: 'Modes-Passw0rd!' };
  delete env.DATABASE_URL;
  const quoted = [process.execPath, BIN, ...args].map((a) => `'${a.replace(/'/g, `'\\''`)}'`).join(' ');
  // Asynchronous, so the test worker keeps answering vitest while the CLI runs.
  return new Promise<{ code: number; stdout: string; stderr: string }>((resolve) =>
    execFile('sh', ['-c', `umask 000; exec ${quoted}`], { env, encoding: 'utf8', timeout: 120_000 }, (err, stdout, stderr) =>
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr }),
    ),
  );
}

/** The entries of a .tar.gz as `tar -tvzf` lists them: mode string and whether it is a directory. */
function archiveModes(file: string): Promise<{ mode: string; dir: boolean; name: string }[]> {
  return new Promise((resolve, reject) =>
    execFile('tar', ['-tvzf', file], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 }, (err, stdout) => {
      if (err) return reject(err);
      const lines = stdout.split('\n').filter(Boolean);
      resolve(lines.map((l) => ({ mode: l.split(/\s+/)[0]!, dir: l.startsWith('d'), name: l.split(/\s+/).at(-1)! })));
    }),
  );
}

/** Paths under `root` that anyone but the owner may read, write or enter. */
function openToOthers(root: string): string[] {
  const out: string[] = [];
  const walk = (p: string) => {
    if ((fs.statSync(p).mode & 0o077) !== 0) out.push(`${path.relative(root, p) || '.'} ${(fs.statSync(p).mode & 0o777).toString(8)}`);
    if (fs.statSync(p).isDirectory()) for (const e of fs.readdirSync(p)) walk(path.join(p, e));
  };
  walk(root);
  return out;
}

describe.skipIf(TEST_ENGINE !== 'pglite')('embedded database files are owner-only whatever the umask', () => {
  it(
    'data directory 0700 and files 0600 after use, backup 0600, a restored directory the same, an old 0666 directory fixed on open',
    { timeout: 600_000 },
    async () => {
      const live = path.join(dir, 'live');
      expect(
        (
          await cli(live, [
            'customer',
            'create',
            '--fullname',
            'Mode Probe',
            '--contact-name',
            'A',
            '--contact-email',
            'a@m.example',
            '--domain',
            'm.example',
          ])
        ).code,
      ).toBe(0);
      expect(openToOthers(live)).toEqual([]);
      expect(fs.readdirSync(path.join(live, 'pglite')).length).toBeGreaterThan(5);
      const file = path.join(dir, 'backup.tar.gz');
      fs.writeFileSync(file, '', { mode: 0o666 });
      fs.chmodSync(file, 0o666);
      expect((await cli(live, ['backup', file])).code).toBe(0);
      expect(fs.statSync(file).mode & 0o777).toBe(0o600);
      // Its entries too, as tar itself lists them: whoever unpacks the backup gets owner-only files.
      const listing = await archiveModes(file);
      expect(listing.length).toBeGreaterThan(100);
      expect(listing.filter((e) => e.mode !== (e.dir ? 'drwx------' : '-rw-------'))).toEqual([]);
      const restored = path.join(dir, 'restored');
      expect((await cli(restored, ['restore', file])).code).toBe(0);
      expect(openToOthers(restored)).toEqual([]);
      // A directory left world-writable by an older version is narrowed at the next open.
      for (const p of [live, path.join(live, 'pglite', 'global')]) fs.chmodSync(p, 0o777);
      fs.chmodSync(path.join(live, 'pglite', 'global', 'pg_control'), 0o666);
      expect((await cli(live, ['customer', 'list', '--json'])).code).toBe(0);
      expect(openToOthers(live)).toEqual([]);
    },
  );
});
