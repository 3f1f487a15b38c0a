import type { Executor, Tx } from '../core/db/database.js';
import type { SecretBox } from '../core/crypto.js';
import { DomainError } from '../core/errors.js';
import { requirePermission, type Caller } from '../tenancy/caller.js';
import { getService, type NamedRef } from '../catalog/catalog.service.js';
import { DriverConfigError } from './drivers/config.js';
import { createDriver, isDriverName, SECRET_CONFIG_KEYS, type DriverName } from './drivers/registry.js';

const SEALED_PREFIX = 'v1:';
export const REDACTED = '********';

/** The config a driver is built from: secret fields opened (the catalog stores them sealed). */
export function openDriverConfig(box: SecretBox, driver: DriverName, stored: Record<string, unknown>): Record<string, unknown> {
  const open = { ...stored };
  for (const key of SECRET_CONFIG_KEYS[driver]) {
    const value = open[key];
    if (typeof value === 'string' && value.startsWith(SEALED_PREFIX)) open[key] = box.open(value);
  }
  return open;
}

export function sealDriverConfig(box: SecretBox, driver: DriverName, plain: Record<string, unknown>): Record<string, unknown> {
  const sealed = { ...plain };
  for (const key of SECRET_CONFIG_KEYS[driver]) {
    const value = sealed[key];
    if (typeof value === 'string' && !value.startsWith(SEALED_PREFIX)) sealed[key] = box.seal(value);
  }
  return sealed;
}

/** The config as shown to operators: secrets are write-only. */
export function redactDriverConfig(driver: DriverName, stored: Record<string, unknown>): Record<string, unknown> {
  const shown = { ...stored };
  for (const key of SECRET_CONFIG_KEYS[driver]) if (shown[key] !== undefined) shown[key] = REDACTED;
  return shown;
}

export interface ServiceDriver {
  service: string;
  driver: DriverName;
  /** Redacted. */
  config: Record<string, unknown>;
}

/**
 * Points a catalog service at a provisioning driver. The config is validated by building the
 * driver, then stored with its secrets sealed.
 */
export async function setServiceDriver(
  tx: Tx,
  caller: Caller,
  box: SecretBox,
  ref: NamedRef,
  driver: string,
  config: Record<string, unknown>,
): Promise<ServiceDriver> {
  requirePermission(caller, 'Manage Catalog');
  if (!isDriverName(driver)) throw new DomainError('ValidationError', `Unknown provisioning driver '${driver}'.`, { driver });
  const service = await getService(tx, ref);
  try {
    await createDriver(driver, config).close?.();
  } catch (e) {
    if (e instanceof DriverConfigError) throw new DomainError('ValidationError', e.message, { driver });
    throw e;
  }
  const stored = sealDriverConfig(box, driver, config);
  await tx
    .updateTable('services')
    .set({ driver, driver_config: JSON.stringify(stored) })
    .where('id', '=', service.id)
    .execute();
  return { service: service.code, driver, config: redactDriverConfig(driver, stored) };
}

export async function serviceDrivers(db: Executor): Promise<ServiceDriver[]> {
  const rows = await db.selectFrom('services').select(['code', 'driver', 'driver_config']).orderBy('code').execute();
  return rows.map((r) => ({ service: r.code, driver: r.driver, config: redactDriverConfig(r.driver, r.driver_config) }));
}
