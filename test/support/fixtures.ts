import { inTransaction, type DB } from '../../src/core/db/database.js';
import { callerForUser } from '../../src/tenancy/auth.service.js';
import type { Caller } from '../../src/tenancy/caller.js';
import { createCustomer, type Customer, type NewCustomer } from '../../src/tenancy/customer.service.js';
import { createUser, type User } from '../../src/tenancy/user.service.js';
import { provisionCustomerService } from '../../src/services/service-assignment.service.js';

export const PASSWORD = 'Passw0rd!23';

export interface Tenant {
  customer: Customer;
  adminUser: User;
  admin: Caller;
}

/** Creates a customer with a first user (its admin) and returns that admin as a caller. */
export async function makeTenant(
  db: DB,
  by: Caller,
  fields: Partial<NewCustomer> & { fullname: string },
  adminName = 'admin',
): Promise<Tenant> {
  const { customer, user } = await inTransaction(db, async (tx) => {
    const { customer } = await createCustomer(tx, by, {
      contactName: 'Contact',
      contactEmail: `contact@${fields.fullname.replace(/\W+/g, '').toLowerCase()}.example`,
      primaryDomain: `${fields.fullname.replace(/\W+/g, '').toLowerCase()}.example`,
      ...fields,
    });
    const { user } = await createUser(tx, by, customer, { name: adminName, password: { password: PASSWORD } });
    return { customer, user };
  });
  return { customer, adminUser: user, admin: (await callerForUser(db, user.id))! };
}

export interface ResellerTree {
  resellerA: Tenant;
  customerA: Tenant;
  resellerB: Tenant;
  customerB: Tenant;
  direct: Tenant;
}

/** Provider → Reseller A → Customer A; Provider → Reseller B → Customer B; Provider → Direct. */
export async function makeResellerTree(db: DB, provider: Caller): Promise<ResellerTree> {
  const resellerA = await makeTenant(db, provider, { fullname: 'Reseller Alpha', isReseller: true });
  const resellerB = await makeTenant(db, provider, { fullname: 'Reseller Beta', isReseller: true });
  const customerA = await makeTenant(db, resellerA.admin, { fullname: 'Customer Alpha One' });
  const customerB = await makeTenant(db, resellerB.admin, { fullname: 'Customer Beta One' });
  const direct = await makeTenant(db, provider, { fullname: 'Direct Customer' });
  return { resellerA, customerA, resellerB, customerB, direct };
}

/** Values for the catalog's required properties (seed 002: FSS needs its FileShareServer). */
const REQUIRED_PROPERTIES: Record<string, Record<string, string>> = { FSS: { FileShareServer: 'FILE01' } };

/** Provisions services to a reseller, so that it can resell them to its customers. */
export async function resell(db: DB, by: Caller, reseller: Tenant, codes: string[]): Promise<void> {
  await inTransaction(db, async (tx) => {
    for (const code of codes)
      await provisionCustomerService(tx, by, reseller.customer, { service: { name: code }, properties: REQUIRED_PROPERTIES[code] ?? {} });
  });
}
