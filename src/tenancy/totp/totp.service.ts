import { randomBytes } from 'node:crypto';
import { Secret, TOTP } from 'otpauth';
import QRCode from 'qrcode';
import type { Executor, Tx } from '../../core/db/database.js';
import { DomainError } from '../../core/errors.js';
import { sha256Hex, type SecretBox } from '../../core/crypto.js';

const ISSUER = 'Tenantry';
const PERIOD_S = 30;
/** One step either side: phones drift and people type slowly. */
const WINDOW = 1;
const RECOVERY_CODES = 10;

export interface TotpStatus {
  enabled: boolean;
  recoveryCodesLeft: number;
}

export interface TotpEnrolment {
  secret: string;
  otpauthUrl: string;
  qrCodeDataUrl: string;
}

/** The second factor a sign-in offers: a code from the authenticator app or a recovery code. */
export interface SecondFactor {
  totpCode?: string;
  recoveryCode?: string;
}

const totpOf = (secret: string, label: string): TOTP =>
  new TOTP({ issuer: ISSUER, label, algorithm: 'SHA1', digits: 6, period: PERIOD_S, secret: Secret.fromBase32(secret) });

const invalidCode = (): DomainError =>
  new DomainError('ValidationError', 'The code is not valid: enter the current 6-digit code from your authenticator app.', {
    field: 'code',
  });

function loadTotp(db: Executor, userId: number) {
  return db.selectFrom('user_totp').selectAll().where('user_id', '=', userId).executeTakeFirst();
}

export async function totpStatus(db: Executor, userId: number): Promise<TotpStatus> {
  const row = await loadTotp(db, userId);
  return { enabled: row?.enabled ?? false, recoveryCodesLeft: row?.enabled ? row.recovery_code_hashes.length : 0 };
}

/** Starts (or restarts) enrolment: a new secret, active only once a code from it is verified. */
export async function enrolTotp(db: Executor, box: SecretBox, user: { id: number; upn: string }): Promise<TotpEnrolment> {
  const current = await loadTotp(db, user.id);
  if (current?.enabled) throw new DomainError('Conflict', 'Two-factor sign-in is already on: turn it off before enrolling a new device.');
  const secret = new Secret({ size: 20 }).base32;
  const sealed = box.seal(secret);
  await db
    .insertInto('user_totp')
    .values({ user_id: user.id, secret_sealed: sealed, enabled: false, recovery_code_hashes: '[]' })
    .onConflict((oc) =>
      oc
        .column('user_id')
        .doUpdateSet({ secret_sealed: sealed, enabled: false, recovery_code_hashes: '[]', last_step: null, enabled_at: null }),
    )
    .execute();
  const otpauthUrl = totpOf(secret, user.upn).toString();
  return { secret, otpauthUrl, qrCodeDataUrl: await QRCode.toDataURL(otpauthUrl, { errorCorrectionLevel: 'M', margin: 2, width: 240 }) };
}

/** Finishes enrolment with the first code; returns the recovery codes (shown once). */
export async function confirmTotp(tx: Tx, box: SecretBox, userId: number, code: string, now: Date): Promise<string[]> {
  const row = await loadTotp(tx, userId);
  if (!row) throw new DomainError('InvalidStatus', 'Start enrolment first.');
  if (row.enabled) throw new DomainError('Conflict', 'Two-factor sign-in is already on.');
  const step = acceptedStep(box, row, code, now);
  if (step === undefined) throw invalidCode();
  const codes = newRecoveryCodes();
  await tx
    .updateTable('user_totp')
    .set({ enabled: true, enabled_at: now, last_step: step, recovery_code_hashes: JSON.stringify(codes.map(hashRecoveryCode)) })
    .where('user_id', '=', userId)
    .execute();
  return codes;
}

/** Replaces the recovery codes; a current code (or a recovery code) proves the device is at hand. */
export async function renewRecoveryCodes(tx: Tx, box: SecretBox, userId: number, code: string, now: Date): Promise<string[]> {
  await proveSecondFactor(tx, box, userId, code, now);
  const codes = newRecoveryCodes();
  await tx
    .updateTable('user_totp')
    .set({ recovery_code_hashes: JSON.stringify(codes.map(hashRecoveryCode)) })
    .where('user_id', '=', userId)
    .execute();
  return codes;
}

/** Turns two-factor off for oneself, with a current code or a recovery code. */
export async function disableTotp(tx: Tx, box: SecretBox, userId: number, code: string, now: Date): Promise<void> {
  await proveSecondFactor(tx, box, userId, code, now);
  await tx.deleteFrom('user_totp').where('user_id', '=', userId).execute();
}

/** An administrator turns a user's two-factor off (lost phone); the caller has already loaded the user in scope. */
export async function removeTotp(tx: Tx, userId: number): Promise<void> {
  await tx.deleteFrom('user_totp').where('user_id', '=', userId).execute();
}

/**
 * The sign-in check: passes when the user has no second factor, else needs a valid code or an unused
 * recovery code (which is then spent). Fails as NotAuthenticated with `totpRequired`.
 */
export async function checkSecondFactor(tx: Tx, box: SecretBox, userId: number, offered: SecondFactor, now: Date): Promise<void> {
  const row = await loadTotp(tx, userId);
  if (!row?.enabled) return;
  const code = offered.totpCode?.trim() || offered.recoveryCode?.trim();
  const message = code ? 'The two-factor code is not valid.' : 'Enter the code from your authenticator app.';
  if (!code || !(await spendCode(tx, box, row, code, now)))
    throw new DomainError('NotAuthenticated', message, { totpRequired: true, codeOffered: Boolean(code) });
}

async function proveSecondFactor(tx: Tx, box: SecretBox, userId: number, code: string, now: Date): Promise<void> {
  const row = await loadTotp(tx, userId);
  if (!row?.enabled) throw new DomainError('InvalidStatus', 'Two-factor sign-in is not on.');
  if (!(await spendCode(tx, box, row, code, now))) throw invalidCode();
}

type TotpRow = NonNullable<Awaited<ReturnType<typeof loadTotp>>>;

/** Accepts a TOTP code once (replays of the same step are refused) or spends a recovery code. */
async function spendCode(tx: Tx, box: SecretBox, row: TotpRow, code: string, now: Date): Promise<boolean> {
  if (/^\d{6}$/.test(code)) {
    const step = acceptedStep(box, row, code, now);
    if (step === undefined || (row.last_step !== null && step <= row.last_step)) return false;
    const updated = await tx
      .updateTable('user_totp')
      .set({ last_step: step })
      .where('user_id', '=', row.user_id)
      .where((eb) => eb.or([eb('last_step', 'is', null), eb('last_step', '<', step)]))
      .returning('user_id')
      .executeTakeFirst();
    return updated !== undefined;
  }
  const hash = hashRecoveryCode(code);
  if (!row.recovery_code_hashes.includes(hash)) return false;
  await tx
    .updateTable('user_totp')
    .set({ recovery_code_hashes: JSON.stringify(row.recovery_code_hashes.filter((h) => h !== hash)) })
    .where('user_id', '=', row.user_id)
    .execute();
  return true;
}

function acceptedStep(box: SecretBox, row: TotpRow, code: string, now: Date): number | undefined {
  const trimmed = code.trim();
  if (!/^\d{6}$/.test(trimmed)) return undefined;
  const delta = totpOf(box.open(row.secret_sealed), '').validate({ token: trimmed, timestamp: now.getTime(), window: WINDOW });
  return delta === null ? undefined : Math.floor(now.getTime() / 1000 / PERIOD_S) + delta;
}

/** Ten codes of 10 characters from an unambiguous alphabet, shown as xxxxx-xxxxx. */
function newRecoveryCodes(): string[] {
  const alphabet = 'abcdefghjkmnpqrstuvwxyz23456789';
  return Array.from({ length: RECOVERY_CODES }, () => {
    const bytes = randomBytes(10);
    const chars = [...bytes].map((b) => alphabet[b % alphabet.length]).join('');
    return `${chars.slice(0, 5)}-${chars.slice(5)}`;
  });
}

/** Recovery codes carry ~49 bits of randomness, so a plain SHA-256 cannot be reversed by guessing. */
function hashRecoveryCode(code: string): string {
  return sha256Hex(
    code
      .trim()
      .toLowerCase()
      .replace(/[^a-z0-9]/g, ''),
  );
}
