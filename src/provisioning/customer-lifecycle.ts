/**
 * De-provisioning and re-provisioning a whole customer (seed 002: `<status>NotProvisioned</status>`
 * and `<status>Provisioned</status>` on a customer).
 */
import type { Tx } from '../core/db/database.js';
import { DomainError } from '../core/errors.js';
import { recordServiceChange, recordUserServicesRemoved } from '../billing/ledger/record-change.js';
import { requirePermission, type Caller } from '../tenancy/caller.js';
import { getCustomer, type Customer } from '../tenancy/customer.service.js';
import type { CustomerRef } from '../tenancy/customer.queries.js';
import { createRequest } from './requests.js';
import { activeCustomerServices, activeUserServices, activeUsers, usersOf } from './customer-lifecycle.queries.js';

/** Children run in this order when a customer is removed: dependants first. */
const REMOVAL_ORDER = { userService: 1, user: 2, customerService: 3 } as const;

function assertMayChange(caller: Caller, customer: Customer): void {
  requirePermission(caller, 'Manage Customers');
  if (customer.id === caller.customerId || customer.parentId === null) {
    throw new DomainError('CustomerError', 'A customer cannot de-provision or re-provision itself or the service provider.');
  }
}

/**
 * De-provisions a customer: every user service, then every user, then every customer service,
 * then the customer itself (one parent request, children in that order). The billing ledger gets
 * `customer_deprovisioned` and a `user_service_removed` per user service, in the same transaction.
 * Returns undefined when the customer is already not provisioned.
 */
export async function deprovisionCustomer(
  tx: Tx,
  caller: Caller,
  ref: CustomerRef,
): Promise<{ customer: Customer; requestId: number | undefined }> {
  const customer = await getCustomer(tx, caller, ref);
  assertMayChange(caller, customer);
  if (customer.status === 'NotProvisioned') return { customer, requestId: undefined };
  const userServices = await activeUserServices(tx, customer.id);
  await recordUserServicesRemoved(tx, caller, customer.id, userServices);
  await recordServiceChange(tx, caller, { action: 'customer_deprovisioned', customerId: customer.id, quantity: '0' });
  const requestId = await createRequest(tx, caller, {
    entity: 'customer',
    entityId: customer.id,
    customerId: customer.id,
    action: 'deprovision',
  });
  const child = (entity: 'user_service' | 'user' | 'customer_service', entityId: number, sequence: number) =>
    createRequest(tx, caller, { entity, entityId, customerId: customer.id, action: 'deprovision', parentId: requestId, sequence });
  for (const us of userServices) await child('user_service', us.id, REMOVAL_ORDER.userService);
  for (const u of await activeUsers(tx, customer.id)) await child('user', u.id, REMOVAL_ORDER.user);
  for (const cs of await activeCustomerServices(tx, customer.id)) await child('customer_service', cs.id, REMOVAL_ORDER.customerService);
  return { customer: await getCustomer(tx, caller, { id: customer.id }), requestId };
}

/**
 * Re-provisions a de-provisioned (or failed) customer and its users: the customer first, then its
 * users. Services stay de-provisioned until they are provisioned again (each is a billable change
 * of its own). Returns undefined when the customer is already provisioned.
 */
export async function reprovisionCustomer(
  tx: Tx,
  caller: Caller,
  ref: CustomerRef,
): Promise<{ customer: Customer; requestId: number | undefined }> {
  const customer = await getCustomer(tx, caller, ref);
  assertMayChange(caller, customer);
  if (customer.status !== 'NotProvisioned' && customer.status !== 'Failed') return { customer, requestId: undefined };
  if (customer.status === 'NotProvisioned')
    await recordServiceChange(tx, caller, { action: 'customer_reprovisioned', customerId: customer.id, quantity: '1' });
  const requestId = await createRequest(tx, caller, {
    entity: 'customer',
    entityId: customer.id,
    customerId: customer.id,
    action: 'provision',
  });
  for (const u of await usersOf(tx, customer.id)) {
    await createRequest(tx, caller, {
      entity: 'user',
      entityId: u.id,
      customerId: customer.id,
      action: 'provision',
      parentId: requestId,
      sequence: 1,
    });
  }
  return { customer: await getCustomer(tx, caller, { id: customer.id }), requestId };
}
