/**
 * Builds the driver a catalog service names. The engine passes the service's `driver_config`
 * with its secret fields already decrypted (webhook `secret`, ldap `bindPassword`): drivers never
 * see ciphertext and never persist config.
 */
import type { ProvisioningDriver } from './driver.js';
import { DriverConfigError } from './config.js';
import { createLdapDriver } from './ldap.js';
import { createSimulatedDriver } from './simulated.js';
import { createWebhookDriver } from './webhook.js';

export const DRIVER_NAMES = ['simulated', 'ldap', 'webhook'] as const;
export type DriverName = (typeof DRIVER_NAMES)[number];

/** Config keys that hold secrets: encrypt them at rest and never return them from an API. */
export const SECRET_CONFIG_KEYS: Readonly<Record<DriverName, readonly string[]>> = {
  simulated: [],
  ldap: ['bindPassword'],
  webhook: ['secret'],
};

const FACTORIES: Record<DriverName, (config: Record<string, unknown>) => ProvisioningDriver> = {
  simulated: createSimulatedDriver,
  ldap: createLdapDriver,
  webhook: createWebhookDriver,
};

export function isDriverName(name: string): name is DriverName {
  return (DRIVER_NAMES as readonly string[]).includes(name);
}

/** Throws DriverConfigError when the name is unknown or the config does not fit the driver. */
export function createDriver(name: DriverName, config: Record<string, unknown>): ProvisioningDriver {
  if (!isDriverName(name)) {
    throw new DriverConfigError(`unknown provisioning driver "${String(name)}"; expected one of ${DRIVER_NAMES.join(', ')}`);
  }
  if (typeof config !== 'object' || config === null || Array.isArray(config)) {
    throw new DriverConfigError(`${name} driver config must be a JSON object`);
  }
  return FACTORIES[name](config);
}
