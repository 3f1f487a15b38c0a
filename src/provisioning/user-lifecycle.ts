/**
 * De-provisioning and re-provisioning one user (seed 002: `<status>NotProvisioned</status>` and
 * `<status>Provisioned</status>` on a user), in the manner of a whole customer.
 */
import type { Tx } from '../core/db/database.js';
import { DomainError } from '../core/errors.js';
import { recordServiceChange, recordUserServicesRemoved } from '../billing/ledger/record-change.js';
import { requirePermission, type Caller } from '../tenancy/caller.js';
import type { Customer } from '../tenancy/customer.service.js';
import { getUser, type User, type UserRef } from '../tenancy/user.service.js';
import { assertMayManageUser } from '../tenancy/role-grants.js';
import { createRequest } from './requests.js';
import { activeServicesOfUser } from './customer-lifecycle.queries.js';

async function userToChange(tx: Tx, caller: Caller, customer: Customer, ref: UserRef): Promise<User> {
  requirePermission(caller, 'Manage Users');
  const user = await getUser(tx, caller, customer, ref);
  if (user.id === caller.userId) throw new DomainError('InvalidUser', 'A user cannot de-provision or re-provision itself.');
  await assertMayManageUser(tx, caller, user.id);
  return user;
}

/**
 * De-provisions a user: each of its user services first (children, in one parent request), then
 * the user. The ledger gets a `user_service_removed` per user service in the same transaction.
 * Returns an undefined requestId when the user is already not provisioned.
 */
export async function deprovisionUser(
  tx: Tx,
  caller: Caller,
  customer: Customer,
  ref: UserRef,
): Promise<{ user: User; requestId: number | undefined }> {
  const user = await userToChange(tx, caller, customer, ref);
  if (user.status === 'NotProvisioned') return { user, requestId: undefined };
  const services = await activeServicesOfUser(tx, user.id);
  await recordUserServicesRemoved(tx, caller, customer.id, services);
  // The user's own billing line ends with it; a disabled user's line has already ended.
  if (user.enabled) {
    await recordServiceChange(tx, caller, {
      action: 'user_disabled',
      customerId: customer.id,
      userId: user.id,
      quantity: '0',
      details: { reason: 'de-provisioned' },
    });
  }
  const requestId = await createRequest(tx, caller, { entity: 'user', entityId: user.id, customerId: customer.id, action: 'deprovision' });
  for (const us of services) {
    await createRequest(tx, caller, {
      entity: 'user_service',
      entityId: us.id,
      customerId: customer.id,
      action: 'deprovision',
      parentId: requestId,
      sequence: 1,
    });
  }
  return { user: await getUser(tx, caller, customer, { id: user.id }), requestId };
}

/**
 * Re-provisions a de-provisioned (or failed) user. Its services stay de-provisioned until they
 * are provisioned again (each is a billable change of its own), as for a customer.
 * Returns an undefined requestId when the user is already provisioned.
 */
export async function reprovisionUser(
  tx: Tx,
  caller: Caller,
  customer: Customer,
  ref: UserRef,
): Promise<{ user: User; requestId: number | undefined }> {
  const user = await userToChange(tx, caller, customer, ref);
  if (user.status !== 'NotProvisioned' && user.status !== 'Failed') return { user, requestId: undefined };
  if (customer.status === 'NotProvisioned') {
    throw new DomainError('InvalidStatus', `Customer '${customer.name}' is not provisioned: re-provision the customer before its users.`);
  }
  if (user.enabled && user.status === 'NotProvisioned') {
    await recordServiceChange(tx, caller, {
      action: 'user_enabled',
      customerId: customer.id,
      userId: user.id,
      details: { reason: 're-provisioned' },
    });
  }
  const requestId = await createRequest(tx, caller, { entity: 'user', entityId: user.id, customerId: customer.id, action: 'provision' });
  return { user: await getUser(tx, caller, customer, { id: user.id }), requestId };
}
