import { createCipheriv, createDecipheriv, randomBytes, scrypt as scryptCb, timingSafeEqual, createHash, randomInt } from 'node:crypto';
import { promisify } from 'node:util';
import fs from 'node:fs';
import path from 'node:path';

const scrypt = promisify(scryptCb) as (password: string, salt: Buffer, keylen: number, options: object) => Promise<Buffer>;

const SCRYPT = { N: 16384, r: 8, p: 1, maxmem: 64 * 1024 * 1024 };

/** scrypt$N$r$p$salt$hash — parameters are stored so they can be raised later. */
export async function hashPassword(password: string): Promise<string> {
  const salt = randomBytes(16);
  const hash = await scrypt(password, salt, 32, SCRYPT);
  return `scrypt$${SCRYPT.N}$${SCRYPT.r}$${SCRYPT.p}$${salt.toString('base64')}$${hash.toString('base64')}`;
}

export async function verifyPassword(password: string, stored: string | null): Promise<boolean> {
  if (!stored) return false;
  const [scheme, n, r, p, salt, hash] = stored.split('$');
  if (scheme !== 'scrypt' || !salt || !hash) return false;
  const expected = Buffer.from(hash, 'base64');
  const actual = await scrypt(password, Buffer.from(salt, 'base64'), expected.length, {
    N: Number(n),
    r: Number(r),
    p: Number(p),
    maxmem: SCRYPT.maxmem,
  });
  return timingSafeEqual(expected, actual);
}

/**
 * A password that satisfies common complexity policies (upper, lower, digit, symbol) and can be
 * pasted into a shell unquoted: its symbols mean nothing to sh, bash or zsh (no #, !, ?, =, $, *),
 * and it starts with a letter, so it is never read as an option.
 */
export function generatePassword(length = 16): string {
  const letters = ['ABCDEFGHJKLMNPQRSTUVWXYZ', 'abcdefghijkmnopqrstuvwxyz'];
  const sets = [...letters, '23456789', '%+-.:@_'];
  const all = sets.join('');
  const pick = (set: string) => set[randomInt(set.length)]!;
  const chars = sets.map(pick);
  while (chars.length < length - 1) chars.push(pick(all));
  for (let i = chars.length - 1; i > 0; i--) {
    const j = randomInt(i + 1);
    [chars[i], chars[j]] = [chars[j]!, chars[i]!];
  }
  return pick(letters.join('')) + chars.join('');
}

export function sha256Hex(value: string): string {
  return createHash('sha256').update(value).digest('hex');
}

/** AES-256-GCM box for secrets at rest: "v1:" + base64(iv | tag | ciphertext). */
export class SecretBox {
  private constructor(private readonly key: Buffer) {}

  static fromKey(key: Buffer): SecretBox {
    if (key.length !== 32) throw new Error('secret key must be 32 bytes');
    return new SecretBox(key);
  }

  /**
   * Key from TENANTRY_SECRET_KEY (64 hex chars or base64 of 32 bytes), else from
   * `<dataDir>/secret.key`, created with mode 0600 on first use.
   */
  static load(secretKey: string | undefined, dataDir: string): SecretBox {
    if (secretKey) return SecretBox.fromKey(decodeKey(secretKey));
    const file = secretKeyFile(dataDir);
    fs.mkdirSync(dataDir, { recursive: true });
    try {
      const fd = fs.openSync(file, 'wx', 0o600);
      fs.writeSync(fd, randomBytes(32).toString('hex'));
      fs.closeSync(fd);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    }
    return SecretBox.fromKey(decodeKey(fs.readFileSync(file, 'utf8').trim()));
  }

  seal(plaintext: string): string {
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', this.key, iv);
    const body = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
    return 'v1:' + Buffer.concat([iv, cipher.getAuthTag(), body]).toString('base64');
  }

  open(sealed: string): string {
    if (!sealed.startsWith('v1:')) throw new Error('unknown secret format');
    const raw = Buffer.from(sealed.slice(3), 'base64');
    const decipher = createDecipheriv('aes-256-gcm', this.key, raw.subarray(0, 12));
    decipher.setAuthTag(raw.subarray(12, 28));
    return Buffer.concat([decipher.update(raw.subarray(28)), decipher.final()]).toString('utf8');
  }

  /** Reads a key file written by `load` (or by hand): 64 hex characters or base64 of 32 bytes. */
  static fromFile(file: string): SecretBox {
    return SecretBox.fromKey(decodeKey(fs.readFileSync(file, 'utf8').trim()));
  }

  /**
   * Names the key without revealing it: a value derived one-way from it, recorded in the
   * database so a start with another key is refused before any secret fails to open.
   */
  fingerprint(): string {
    return this.derive('secret-key-fingerprint').toString('hex').slice(0, 16);
  }

  /** A key for HMAC/JWT signing derived from the secret key, so one key file serves all. */
  derive(purpose: string): Buffer {
    return createHash('sha256').update(this.key).update(purpose).digest();
  }
}

/** Where the secrets key lives when TENANTRY_SECRET_KEY is not set. */
export function secretKeyFile(dataDir: string): string {
  return path.join(dataDir, 'secret.key');
}

function decodeKey(text: string): Buffer {
  const key = /^[0-9a-fA-F]{64}$/.test(text) ? Buffer.from(text, 'hex') : Buffer.from(text, 'base64');
  if (key.length !== 32) throw new Error('TENANTRY_SECRET_KEY must be 32 bytes as 64 hex characters or base64');
  return key;
}
