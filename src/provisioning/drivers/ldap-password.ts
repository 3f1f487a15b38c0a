/**
 * userPassword values for the LDAP driver.
 *
 * Passwords are hashed client-side as {SSHA} (salted SHA-1, which every OpenLDAP build verifies
 * without extra modules), so plaintext never reaches the directory or its logs.
 *
 * A disabled account keeps its hash with a "!" after the scheme: "{SSHA}!<base64>". slapd still
 * picks the SSHA checker from the scheme and fails to decode the payload, so every bind fails,
 * including one that presents the stored value itself. Removing the "!" restores the old
 * password, so re-enabling a user does not need the plaintext, which Tenantry does not keep.
 * This is the LDAP counterpart of the "!" prefix in /etc/shadow.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

const SCHEME = /^\{([A-Za-z0-9.-]+)\}/;
const SALT_BYTES = 8;
const SHA1_BYTES = 20;

export function hashSsha(password: string, salt: Buffer = randomBytes(SALT_BYTES)): string {
  const digest = createHash('sha1').update(password, 'utf8').update(salt).digest();
  return `{SSHA}${Buffer.concat([digest, salt]).toString('base64')}`;
}

export function isLocked(value: string): boolean {
  const scheme = SCHEME.exec(value);
  return scheme !== null && value.charAt(scheme[0].length) === '!';
}

/** The value with its lock removed (unchanged when it is not locked). */
export function unlock(value: string): string {
  if (!isLocked(value)) return value;
  const scheme = SCHEME.exec(value)![0];
  return scheme + value.slice(scheme.length + 1);
}

/**
 * The value made unusable for binds. A value without a {scheme} is a plaintext password an
 * admin put there: it is hashed first, or the "!" would merely change the plaintext.
 */
export function lock(value: string): string {
  if (isLocked(value)) return value;
  const hashed = SCHEME.test(value) ? value : hashSsha(value);
  const scheme = SCHEME.exec(hashed)![0];
  return `${scheme}!${hashed.slice(scheme.length)}`;
}

/** True when `stored` (locked or not) is the {SSHA} hash of `password`. */
export function sshaMatches(password: string, stored: string): boolean {
  const value = unlock(stored);
  if (!value.startsWith('{SSHA}')) return false;
  const raw = Buffer.from(value.slice('{SSHA}'.length), 'base64');
  if (raw.length <= SHA1_BYTES) return false;
  const expected = Buffer.from(hashSsha(password, raw.subarray(SHA1_BYTES)).slice('{SSHA}'.length), 'base64');
  return timingSafeEqual(raw, expected);
}

/**
 * The userPassword values an account should have, given what it has now. A new password
 * replaces the old one unless the stored hash already matches it (so a re-run changes nothing);
 * without one, the stored values are kept. Disabled accounts get every value locked.
 */
export function desiredPasswordValues(current: string[], password: string | undefined, enabled: boolean): string[] {
  let values = current.map(unlock);
  if (password !== undefined) {
    const same = values.find((value) => sshaMatches(password, value));
    values = [same ?? hashSsha(password)];
  }
  return enabled ? values : values.map(lock);
}
