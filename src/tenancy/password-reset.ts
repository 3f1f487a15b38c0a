import type { Tx } from '../core/db/database.js';
import { generatePassword } from '../core/crypto.js';
import type { Caller } from './caller.js';
import type { Customer } from './customer.service.js';
import { endSessionsOfUser } from './sessions/session.service.js';
import { updateUser, type User } from './user.service.js';

/**
 * Sets a new password for a user (typed, or generated and returned once), pushes it to the target
 * systems, and ends the user's console sessions so a leaked session cannot outlive the reset.
 */
export async function resetPassword(
  tx: Tx,
  caller: Caller,
  customer: Customer,
  user: User,
  input: { password?: string; changeAtNextLogon?: boolean },
): Promise<{ generatedPassword: string | undefined; requestId: number | undefined }> {
  const generatedPassword = input.password ? undefined : generatePassword();
  const { requestId } = await updateUser(
    tx,
    caller,
    customer,
    { id: user.id },
    {
      password: {
        password: input.password ?? generatedPassword,
        ...(input.changeAtNextLogon !== undefined ? { changeAtNextLogon: input.changeAtNextLogon } : {}),
      },
    },
  );
  await tx.updateTable('users').set({ failed_logins: 0, locked_until: null }).where('id', '=', user.id).execute();
  if (user.id !== caller.userId) await endSessionsOfUser(tx, user.id);
  return { generatedPassword, requestId };
}
