import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { TEST_ENGINE } from '../support/engine.js';

const BIN = path.resolve('bin/tenantry.js');
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tenantry-backup-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

function cli(dataDir: string, args: string[]) {
  const env: NodeJS.ProcessEnv = { ...process.env, TENANTRY_DATA_DIR: dataDir, TENANTRY_ADMIN_PASSWORD: 'Backup-Passw0rd!' };
  delete env.DATABASE_URL;
  const r = spawnSync(process.execPath, [BIN, ...args], { env, encoding: 'utf8', timeout: 60_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

// The embedded database is the same on both test runs; once is enough.
describe.skipIf(TEST_ENGINE !== 'pglite')('backup and restore of the embedded database', () => {
  it('restores every customer into an empty data directory and refuses to overwrite one', () => {
    const live = path.join(dir, 'live');
    const restored = path.join(dir, 'restored');
    const file = path.join(dir, 'backup.tar.gz');
    expect(cli(live, ['customer', 'create', '--fullname', 'Backed Up Customer', '--contact-name', 'A', '--contact-email', 'a@b.example', '--domain', 'b.example']).code).toBe(0);
    expect(cli(live, ['backup', file]).code).toBe(0);
    expect(fs.statSync(file).mode & 0o777).toBe(0o600);
    expect(cli(restored, ['restore', file]).code).toBe(0);
    const list = JSON.parse(cli(restored, ['customer', 'list', '--json']).stdout) as { name: string }[];
    expect(list.map((c) => c.name)).toEqual(['SP', 'BUC']);
    const again = cli(restored, ['restore', file]);
    expect(again.code).not.toBe(0);
    expect(again.stderr).toContain('already holds a database');
  });
});
