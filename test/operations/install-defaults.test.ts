import fs from 'node:fs';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { openRuntime } from '../../src/core/runtime.js';
import { ConfigError, type Config } from '../../src/core/config.js';
import { SecretBox, secretKeyFile } from '../../src/core/crypto.js';
import { rotateSecretKey } from '../../src/core/install/secret-key.js';
import { openDatabase } from '../../src/core/db/database.js';
import { inTransaction } from '../../src/core/db/database.js';
import { deleteJob, listJobs, openSecrets, updateJob } from '../../src/jobs/job.service.js';
import { defaultRegistry } from '../../src/jobs/env.js';
import { systemCaller } from '../../src/tenancy/caller.js';
import { freshInstall, type FreshInstall } from '../support/fresh-db.js';

// Each test opens and closes the install several times: minutes on a loaded 2-core machine.
vi.setConfig({ testTimeout: 600_000 });

let install: FreshInstall | undefined;
afterEach(async () => {
  await install?.drop();
  install = undefined;
});

/** One process start on the install: open, let `fn` look, close. */
async function started<T>(config: Config, fn: (rt: Awaited<ReturnType<typeof openRuntime>>) => Promise<T>): Promise<T> {
  const rt = await openRuntime(config, { quiet: true });
  try {
    return await fn(rt);
  } finally {
    await rt.ctx.database.close();
  }
}

const jobsOf = (rt: Awaited<ReturnType<typeof openRuntime>>) =>
  listJobs(rt.ctx.db, systemCaller(rt.ctx.provider), { registry: defaultRegistry(), box: rt.ctx.secrets });

describe('billing runs by default', () => {
  it('a new install gets one enabled nightly "Daily Billing Run" in the provider zone; edits stay and a deleted one is not re-created', async () => {
    install = await freshInstall();
    const created = await started(install.config, async (rt) => {
      const jobs = await jobsOf(rt);
      expect(jobs.map((j) => [j.label, j.task, j.cron, j.timeZone, j.enabled])).toEqual([
        ['Daily Billing Run', 'billing-run', '15 3 * * *', 'UTC', true],
      ]);
      expect(jobs[0]!.nextRunAt!.getUTCHours()).toBe(3);
      // The operator disables it: a restart must not switch it back on.
      await inTransaction(rt.ctx.db, (tx) =>
        updateJob(tx, systemCaller(rt.ctx.provider), { registry: defaultRegistry(), box: rt.ctx.secrets }, jobs[0]!.id, {
          enabled: false,
          cron: '0 5 * * *',
        }),
      );
      return jobs[0]!;
    });
    await started(install.config, async (rt) => {
      const jobs = await jobsOf(rt);
      expect(jobs.map((j) => [j.id, j.cron, j.enabled])).toEqual([[created.id, '0 5 * * *', false]]);
      await inTransaction(rt.ctx.db, (tx) => deleteJob(tx, systemCaller(rt.ctx.provider), created.id));
    });
    await started(install.config, async (rt) => expect(await jobsOf(rt)).toEqual([]));
  });
});

describe('the secrets key', () => {
  async function sealJobSecret(config: Config): Promise<number> {
    return started(config, async (rt) => {
      const [job] = await jobsOf(rt);
      await rt.ctx.db
        .updateTable('jobs')
        .set({ secrets_sealed: rt.ctx.secrets.seal(JSON.stringify({ Secret: 'psa-password' })) })
        .where('id', '=', job!.id)
        .execute();
      return job!.id;
    });
  }

  const otherKey = () => randomBytes(32).toString('hex');

  it('a start with another key is refused with a clear line until the secrets are re-sealed with --old-key-file', async () => {
    install = await freshInstall({}, { migrated: true });
    const jobId = await sealJobSecret(install.config);
    const oldKeyFile = path.join(install.dataDir, 'old.key');
    fs.copyFileSync(secretKeyFile(install.dataDir), oldKeyFile);
    const newKey = otherKey();
    const rotated = { ...install.config, secretKey: newKey };

    const refused = await openRuntime(rotated, { quiet: true }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(refused).toBeInstanceOf(ConfigError);
    expect((refused as Error).message).toMatch(
      /^the secrets key \(TENANTRY_SECRET_KEY, fingerprint [0-9a-f]{16}\) is not the key this database's secrets were sealed with \(fingerprint [0-9a-f]{16}\); .*tenantry rotate-key --old-key-file/,
    );

    const database = await openDatabase({ url: rotated.databaseUrl, dataDir: rotated.dataDir });
    const out = await rotateSecretKey(database.db, rotated, SecretBox.fromFile(oldKeyFile)).finally(() => database.close());
    expect(out).toMatchObject({ resealed: 1, dropped: 0, fingerprint: SecretBox.fromKey(Buffer.from(newKey, 'hex')).fingerprint() });

    await started(rotated, async (rt) => {
      const row = await rt.ctx.db.selectFrom('jobs').select('secrets_sealed').where('id', '=', jobId).executeTakeFirstOrThrow();
      expect(openSecrets(rt.ctx.secrets, row.secrets_sealed)).toEqual({ Secret: 'psa-password' });
    });
    // The old key is now the wrong one.
    await expect(openRuntime(install.config, { quiet: true })).rejects.toThrow(/is not the key this database's secrets were sealed with/);
  });

  it('a data directory without its key file (a restore that did not copy it) is refused instead of getting a new key', async () => {
    install = await freshInstall({}, { migrated: true });
    await sealJobSecret(install.config);
    fs.rmSync(secretKeyFile(install.dataDir));
    const refused = await openRuntime(install.config, { quiet: true }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(refused).toBeInstanceOf(ConfigError);
    expect((refused as Error).message).toMatch(
      /^no secrets key: this database's secrets were sealed with the key of fingerprint [0-9a-f]{16}; copy that key to .*secret\.key/,
    );
    expect(fs.existsSync(secretKeyFile(install.dataDir))).toBe(false);
  });

  it('a lost key: --forget-secrets drops what it sealed and the install starts with the new key', async () => {
    install = await freshInstall({}, { migrated: true });
    const jobId = await sealJobSecret(install.config);
    const rotated = { ...install.config, secretKey: otherKey() };
    const database = await openDatabase({ url: rotated.databaseUrl, dataDir: rotated.dataDir });
    const out = await rotateSecretKey(database.db, rotated, undefined).finally(() => database.close());
    expect(out).toMatchObject({ resealed: 0, dropped: 1 });
    await started(rotated, async (rt) => {
      const row = await rt.ctx.db
        .selectFrom('jobs')
        .select(['secrets_sealed', 'secret_names'])
        .where('id', '=', jobId)
        .executeTakeFirstOrThrow();
      expect(row).toEqual({ secrets_sealed: null, secret_names: [] });
    });
  });

  it('an install from before fingerprints whose secrets the key cannot open is refused, not silently re-keyed', async () => {
    install = await freshInstall({}, { migrated: true });
    await sealJobSecret(install.config);
    const database = await openDatabase({ url: install.config.databaseUrl, dataDir: install.dataDir });
    await database.db.deleteFrom('install_state').where('key', '=', 'secret_key.fingerprint').execute();
    await database.close();
    await expect(openRuntime({ ...install.config, secretKey: otherKey() }, { quiet: true })).rejects.toThrow(/fingerprint unrecorded/);
    await started(install.config, async () => undefined);
  });
});
