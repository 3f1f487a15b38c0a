import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { TEST_ENGINE } from '../support/engine.js';
import { runCliAsync } from '../support/server-process.js';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tenantry-backup-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

function cli(dataDir: string, args: string[]) {
  const env: NodeJS.ProcessEnv = { ...process.env, TENANTRY_DATA_DIR: dataDir, TENANTRY_ADMIN_PASSWORD: 'Backup-Passw0rd!' };
  delete env.DATABASE_URL;
  return runCliAsync(args, env);
}

// The embedded database is the same on both test runs; once is enough.
describe.skipIf(TEST_ENGINE !== 'pglite')('backup and restore of the embedded database', () => {
  it('restores every customer into an empty data directory and refuses to overwrite one', async () => {
    const live = path.join(dir, 'live');
    const restored = path.join(dir, 'restored');
    const file = path.join(dir, 'backup.tar.gz');
    const created = await cli(live, [
      'customer',
      'create',
      '--fullname',
      'Backed Up Customer',
      '--contact-name',
      'A',
      '--contact-email',
      'a@b.example',
      '--domain',
      'b.example',
    ]);
    expect(created.code).toBe(0);
    const backup = await cli(live, ['backup', file]);
    expect(backup.code).toBe(0);
    // Progress on stderr, step by step; the answer on stdout.
    expect(backup.stderr.split('\n')).toEqual([
      `backing up ${live}`,
      'backup 1/2: dumping the database (the long step: minutes for a large one)…',
      expect.stringMatching(new RegExp(`^backup 2/2: writing \\d+\\.\\d MB to ${file}…$`)),
      '',
    ]);
    expect(backup.stdout).toMatch(new RegExp(`^backup of ${live} written to ${file} \\([\\d,]+ bytes\\)\n`));
    expect(backup.stdout).toContain(`The secrets key is NOT in the backup: it is ${path.join(live, 'secret.key')}.`);
    expect(fs.statSync(file).mode & 0o777).toBe(0o600);
    const restore = await cli(restored, ['restore', file]);
    expect(restore.code).toBe(0);
    expect(restore.stderr.split('\n')).toEqual([
      `restoring ${file} into ${restored}`,
      `restore 1/3: reading ${file}…`,
      expect.stringMatching(new RegExp(`^restore 2/3: loading \\d+\\.\\d MB into ${restored} \\(the long step`)),
      'restore 3/3: closing the database and making its files owner-only…',
      '',
    ]);
    expect(restore.stdout).toMatch(new RegExp(`^restored ${file} into ${restored}\n`));
    expect(restore.stdout).toContain(`copy the original secrets key to ${path.join(restored, 'secret.key')}`);
    // Without the key the restored install refuses to start rather than making a new one.
    const keyless = await cli(restored, ['customer', 'list']);
    expect(keyless.code).toBe(2);
    expect(keyless.stderr).toMatch(
      /^tenantry: no secrets key: this database's secrets were sealed with the key of fingerprint [0-9a-f]{16}; copy that key to /,
    );
    fs.copyFileSync(path.join(live, 'secret.key'), path.join(restored, 'secret.key'));
    const list = JSON.parse((await cli(restored, ['customer', 'list', '--json'])).stdout) as { name: string }[];
    expect(list.map((c) => c.name)).toEqual(['SP', 'BUC']);
    const again = await cli(restored, ['restore', file]);
    expect(again.code).not.toBe(0);
    expect(again.stderr).toContain('already holds a database');
  }, 600_000);
});
