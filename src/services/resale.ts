import type { Executor } from '../core/db/database.js';
import { DomainError } from '../core/errors.js';
import { listServices, type Service } from '../catalog/catalog.service.js';
import type { Customer } from '../tenancy/customer.service.js';

/**
 * The services a reseller can resell (seed 002, "Find all Services a Reseller can Resell"): the
 * service provider offers the whole catalog; any other reseller only what is provisioned to it.
 */
export async function resellableServices(db: Executor, reseller: Pick<Customer, 'id' | 'parentId'>): Promise<Service[]> {
  if (reseller.parentId === null) return listServices(db);
  return db
    .selectFrom('services')
    .selectAll()
    .where('enabled', '=', true)
    .where(({ exists, selectFrom }) =>
      exists(
        selectFrom('customer_services')
          .select('customer_services.id')
          .whereRef('customer_services.service_id', '=', 'services.id')
          .where('customer_services.customer_id', '=', reseller.id)
          .where('customer_services.status', '<>', 'NotProvisioned'),
      ),
    )
    .orderBy('code')
    .execute();
}

/** The services a customer can be provisioned with: what its parent resells (the provider: the whole catalog). */
export async function availableServices(db: Executor, customer: Pick<Customer, 'parentId'>): Promise<Service[]> {
  if (customer.parentId === null) return listServices(db);
  const parent = await db.selectFrom('customers').select(['id', 'parent_id']).where('id', '=', customer.parentId).executeTakeFirstOrThrow();
  return resellableServices(db, { id: parent.id, parentId: parent.parent_id });
}

/** A service is provisioned to a customer only when its parent resells it (code 21, "has not been configured"). */
export async function assertServiceAvailable(db: Executor, customer: Pick<Customer, 'name' | 'parentId'>, service: Service): Promise<void> {
  if ((await availableServices(db, customer)).some((s) => s.id === service.id)) return;
  throw new DomainError('ServiceNotFound', `Service '${service.code}' is not available to customer '${customer.name}'.`, {
    service: service.code,
    customer: customer.name,
  });
}
