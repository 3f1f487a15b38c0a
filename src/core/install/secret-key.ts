import fs from 'node:fs';
import type { Config } from '../config.js';
import { ConfigError } from '../config.js';
import { SecretBox, secretKeyFile } from '../crypto.js';
import { inTransaction, type DB, type Executor } from '../db/database.js';
import { readInstallFact, recordInstallFactOnce, writeInstallFact } from './install-state.js';
import { SECRET_CONFIG_KEYS, isDriverName } from '../../provisioning/drivers/registry.js';

const SEALED_PREFIX = 'v1:';

/** Where the configured key comes from, in the words an operator sets it with. */
export function secretKeySource(config: Pick<Config, 'secretKey' | 'dataDir'>): string {
  return config.secretKey ? 'TENANTRY_SECRET_KEY' : secretKeyFile(config.dataDir);
}

function mismatch(config: Config, recorded: string, actual: string): ConfigError {
  return new ConfigError(
    `the secrets key (${secretKeySource(config)}, fingerprint ${actual}) is not the key this database's secrets were sealed with ` +
      `(fingerprint ${recorded}); start with the original key, or re-seal with: tenantry rotate-key --old-key-file <original key file>`,
  );
}

/**
 * Loads the secrets key and checks it against the fingerprint the database recorded. A new
 * database records the key's fingerprint; one upgraded from before fingerprints records it
 * only when its stored secrets open with the key. A restored database whose key was not copied
 * is refused instead of silently getting a new key that opens nothing.
 */
export async function loadSecretKey(db: DB, config: Config): Promise<SecretBox> {
  const recorded = await readInstallFact(db, 'secret_key.fingerprint');
  if (recorded && !config.secretKey && !fs.existsSync(secretKeyFile(config.dataDir))) {
    throw new ConfigError(
      `no secrets key: this database's secrets were sealed with the key of fingerprint ${recorded}; copy that key to ` +
        `${secretKeyFile(config.dataDir)} (mode 0600) or set TENANTRY_SECRET_KEY (a backup does not contain the key)`,
    );
  }
  const box = SecretBox.load(config.secretKey, config.dataDir);
  const actual = box.fingerprint();
  if (recorded) {
    if (recorded !== actual) throw mismatch(config, recorded, actual);
    return box;
  }
  const sample = (await sealedValues(db))[0];
  if (sample && !opens(box, sample.value)) throw mismatch(config, 'unrecorded', actual);
  // Two processes starting at once on one PostgreSQL with different keys: the first one wins.
  if (!(await recordInstallFactOnce(db, 'secret_key.fingerprint', actual))) {
    const winner = (await readInstallFact(db, 'secret_key.fingerprint'))!;
    if (winner !== actual) throw mismatch(config, winner, actual);
  }
  return box;
}

function opens(box: SecretBox, sealed: string): boolean {
  try {
    box.open(sealed);
    return true;
  } catch {
    return false;
  }
}

/** A sealed value in the database, with how to write a replacement back. */
interface SealedValue {
  value: string;
  replace(db: Executor, sealed: string | null): Promise<void>;
}

/** Every sealed value: job secrets, driver config secrets, pending requests' one-time secrets. */
async function sealedValues(db: Executor): Promise<SealedValue[]> {
  const out: SealedValue[] = [];
  const jobs = await db.selectFrom('jobs').select(['id', 'secrets_sealed']).where('secrets_sealed', 'is not', null).execute();
  for (const j of jobs) {
    out.push({
      value: j.secrets_sealed!,
      replace: async (tx, sealed) => {
        await tx
          .updateTable('jobs')
          .set(sealed === null ? { secrets_sealed: null, secret_names: JSON.stringify([]) } : { secrets_sealed: sealed })
          .where('id', '=', j.id)
          .execute();
      },
    });
  }
  const requests = await db.selectFrom('provisioning_requests').select(['id', 'secret']).where('secret', 'is not', null).execute();
  for (const r of requests) {
    out.push({
      value: r.secret!,
      replace: async (tx, sealed) =>
        void (await tx.updateTable('provisioning_requests').set({ secret: sealed }).where('id', '=', r.id).execute()),
    });
  }
  const services = await db.selectFrom('services').select(['id', 'driver', 'driver_config']).execute();
  for (const s of services) {
    if (!isDriverName(s.driver)) continue;
    for (const key of SECRET_CONFIG_KEYS[s.driver]) {
      const value = s.driver_config[key];
      if (typeof value !== 'string' || !value.startsWith(SEALED_PREFIX)) continue;
      out.push({
        value,
        replace: async (tx, sealed) => {
          // Read again: several keys of one service are replaced one after another.
          const row = await tx.selectFrom('services').select('driver_config').where('id', '=', s.id).executeTakeFirstOrThrow();
          const config = { ...row.driver_config };
          if (sealed === null) delete config[key];
          else config[key] = sealed;
          await tx
            .updateTable('services')
            .set({ driver_config: JSON.stringify(config) })
            .where('id', '=', s.id)
            .execute();
        },
      });
    }
  }
  return out;
}

export interface RotationOutcome {
  resealed: number;
  dropped: number;
  fingerprint: string;
}

/**
 * Re-seals every stored secret from the old key to the configured one in one transaction, and
 * records the new fingerprint. With `old` undefined (the old key is lost) the secrets that the
 * configured key cannot open are dropped instead: jobs and drivers then need them entered again.
 */
export async function rotateSecretKey(db: DB, config: Config, old: SecretBox | undefined): Promise<RotationOutcome> {
  const box = SecretBox.load(config.secretKey, config.dataDir);
  return inTransaction(db, async (tx) => {
    let resealed = 0;
    let dropped = 0;
    for (const item of await sealedValues(tx)) {
      if (opens(box, item.value)) continue;
      if (!old) {
        await item.replace(tx, null);
        dropped++;
        continue;
      }
      let plain: string;
      try {
        plain = old.open(item.value);
      } catch {
        throw new ConfigError(
          `the old key (fingerprint ${old.fingerprint()}) does not open the stored secrets either; nothing was changed`,
        );
      }
      await item.replace(tx, box.seal(plain));
      resealed++;
    }
    await writeInstallFact(tx, 'secret_key.fingerprint', box.fingerprint());
    return { resealed, dropped, fingerprint: box.fingerprint() };
  });
}
