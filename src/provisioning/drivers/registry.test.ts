import { describe, expect, it } from 'vitest';
import { DriverConfigError } from './config.js';
import { createDriver, isDriverName, type DriverName } from './registry.js';

describe('driver registry', () => {
  it('creates each driver by name', () => {
    expect(createDriver('simulated', {}).name).toBe('simulated');
    expect(createDriver('webhook', { url: 'https://hooks.example/t', secret: 's' }).name).toBe('webhook');
    const ldap = createDriver('ldap', { url: 'ldaps://dir.example', bindDN: 'cn=a', bindPassword: 'p', baseDN: 'dc=x' });
    expect(ldap.name).toBe('ldap');
  });

  it('rejects unknown names and non-object config with clear errors', () => {
    expect(isDriverName('ldap')).toBe(true);
    expect(isDriverName('smtp')).toBe(false);
    expect(() => createDriver('smtp' as DriverName, {})).toThrow(
      new DriverConfigError('unknown provisioning driver "smtp"; expected one of simulated, ldap, webhook'),
    );
    expect(() => createDriver('simulated', [] as unknown as Record<string, unknown>)).toThrow(
      'simulated driver config must be a JSON object',
    );
  });

  it('passes validation errors through', () => {
    expect(() => createDriver('webhook', { url: 'https://x' })).toThrow(DriverConfigError);
    expect(() => createDriver('ldap', { url: 'ldap://x' })).toThrow('ldap driver config: "bindDN" is required');
  });
});
