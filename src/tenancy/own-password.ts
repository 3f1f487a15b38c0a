import type { Tx } from '../core/db/database.js';
import { verifyPassword } from '../core/crypto.js';
import { DomainError, must, userNotFound, validation } from '../core/errors.js';
import type { Caller } from './caller.js';
import { getCustomer } from './customer.service.js';
import { updateUser } from './user.service.js';
import { MAX_PASSWORD_LENGTH } from '../core/field-limits.js';

export const MIN_PASSWORD_LENGTH = 8;
export { MAX_PASSWORD_LENGTH };

/**
 * The signed-in user changes its own password (seed 000: the "Password" page). Any user may do
 * this for itself, without "Manage Users"; the current password must be given, so a session left
 * open cannot be used to take the account over. The change goes through updateUser, so the
 * directory is updated by the same provisioning request as an admin's password reset.
 */
export async function changeOwnPassword(
  tx: Tx,
  caller: Caller,
  currentPassword: string,
  newPassword: string,
): Promise<{ requestId: number | undefined }> {
  if (caller.userId === null) throw new DomainError('InvalidUser', 'Only a signed-in user has a password to change.');
  if (newPassword.length < MIN_PASSWORD_LENGTH)
    throw validation(`The new password needs at least ${MIN_PASSWORD_LENGTH} characters.`, { field: 'newPassword' });
  if (newPassword.length > MAX_PASSWORD_LENGTH)
    throw validation(`The new password is longer than ${MAX_PASSWORD_LENGTH} characters.`, { field: 'newPassword' });
  if (newPassword === currentPassword) throw validation('The new password must differ from the current one.', { field: 'newPassword' });
  const row = must(
    await tx
      .selectFrom('users')
      .select(['id', 'password_hash', 'customer_id'])
      .where('id', '=', caller.userId)
      .where('deleted_at', 'is', null)
      .executeTakeFirst(),
    () => userNotFound(caller.userName),
  );
  if (!(await verifyPassword(currentPassword, row.password_hash)))
    throw validation('The current password is not correct.', { field: 'currentPassword' });
  // Acting on itself only: "Manage Users" within its own customer, for this one field.
  const self: Caller = { ...caller, subtree: false, permissions: new Set([...caller.permissions, 'Manage Users']) };
  const customer = await getCustomer(tx, self, { id: row.customer_id });
  const { requestId } = await updateUser(
    tx,
    self,
    customer,
    { id: row.id },
    { password: { password: newPassword, changeAtNextLogon: false } },
  );
  return { requestId };
}
