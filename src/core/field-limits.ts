/*
 * Field lengths, enforced in the domain functions so the CortexAPI, the console, the External API
 * and the CLI refuse the same text the same way (issue 16). The limits follow the seed's fields and
 * the directory attributes they become (Active Directory: givenName/sn 64, displayName 256,
 * userPrincipalName 256); the console's JSON schemas state the same numbers.
 */
import { DomainError, type DomainErrorName } from './errors.js';
import { hasForbiddenCharacter } from './limits.js';

/** Most characters per field name. */
export type FieldLimits = Readonly<Record<string, number>>;

/** Passwords are hashed with scrypt on every sign-in: their length is bounded like any field. */
export const MAX_PASSWORD_LENGTH = 256;

/** A property map (customer properties, user properties and directory attributes). */
export const PROPERTY_LIMITS = { count: 100, name: 128, value: 4000 } as const;

/**
 * Refuses any given text field longer than its limit or holding a control character (NUL cannot be
 * stored; the others have no place in a name or an address), before anything is written.
 */
export function assertFieldLengths(code: DomainErrorName, what: string, fields: object, limits: FieldLimits): void {
  const values = fields as Record<string, unknown>;
  for (const [field, max] of Object.entries(limits)) {
    const value = values[field];
    if (typeof value !== 'string') continue;
    if (value.length > max) {
      throw new DomainError(code, `The ${what} ${field} is longer than ${max} characters (${value.length} given).`, {
        field,
        maxLength: max,
      });
    }
    if (hasForbiddenCharacter(value)) throw new DomainError(code, `The ${what} ${field} contains a control character.`, { field });
  }
}

/** Refuses a property map with too many entries, an overlong name or value, or a control character in either. */
export function assertPropertyMap(what: string, field: string, map: Record<string, string> | undefined): void {
  if (map === undefined) return;
  const entries = Object.entries(map);
  const refuse = (message: string) => {
    throw new DomainError('InvalidProperty', message, { field });
  };
  if (entries.length > PROPERTY_LIMITS.count)
    refuse(`The ${what} has more than ${PROPERTY_LIMITS.count} ${field} (${entries.length} given).`);
  for (const [name, value] of entries) {
    if (name.length > PROPERTY_LIMITS.name) refuse(`A ${what} property name is longer than ${PROPERTY_LIMITS.name} characters.`);
    if (typeof value === 'string' && value.length > PROPERTY_LIMITS.value)
      refuse(`The ${what} property '${name}' is longer than ${PROPERTY_LIMITS.value} characters (${value.length} given).`);
    if (hasForbiddenCharacter(name) || (typeof value === 'string' && hasForbiddenCharacter(value)))
      refuse(`The ${what} property '${name.slice(0, PROPERTY_LIMITS.name)}' contains a control character.`);
  }
}
