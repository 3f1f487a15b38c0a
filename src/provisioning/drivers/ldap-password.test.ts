import { describe, expect, it } from 'vitest';
import { desiredPasswordValues, hashSsha, isLocked, lock, sshaMatches, unlock } from './ldap-password.js';

describe('ldap passwords', () => {
  it('hashes as salted SHA-1 and verifies', () => {
    const hash = hashSsha('pw1');
    expect(hash).toMatch(/^\{SSHA\}[A-Za-z0-9+/]+=*$/);
    expect(hashSsha('pw1')).not.toBe(hash);
    expect(sshaMatches('pw1', hash)).toBe(true);
    expect(sshaMatches('pw2', hash)).toBe(false);
    expect(sshaMatches('pw1', '{CRYPT}xyz')).toBe(false);
  });

  it('locks reversibly', () => {
    const hash = hashSsha('pw1');
    const locked = lock(hash);
    expect(locked).toBe(`{SSHA}!${hash.slice(6)}`);
    expect(isLocked(locked)).toBe(true);
    expect(lock(locked)).toBe(locked);
    expect(unlock(locked)).toBe(hash);
    expect(sshaMatches('pw1', locked)).toBe(true);
  });

  it('hashes a plaintext value before locking it', () => {
    const locked = lock('plain');
    expect(locked.startsWith('{SSHA}!')).toBe(true);
    expect(sshaMatches('plain', locked)).toBe(true);
  });

  it('keeps a stored hash that already matches, so re-runs write nothing', () => {
    const stored = [hashSsha('pw1')];
    expect(desiredPasswordValues(stored, 'pw1', true)).toEqual(stored);
    expect(desiredPasswordValues(stored, undefined, true)).toEqual(stored);
    const locked = desiredPasswordValues(stored, undefined, false);
    expect(locked).toEqual([lock(stored[0])]);
    expect(desiredPasswordValues(locked, undefined, false)).toEqual(locked);
    expect(desiredPasswordValues(locked, undefined, true)).toEqual(stored);
    expect(desiredPasswordValues([], undefined, true)).toEqual([]);
    const changed = desiredPasswordValues(stored, 'pw2', true);
    expect(changed).toHaveLength(1);
    expect(sshaMatches('pw2', changed[0])).toBe(true);
  });
});
