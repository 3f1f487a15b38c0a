import type { Executor } from '../core/db/database.js';
import type { CustomerPlan, Service, UserPlan } from '../catalog/catalog.service.js';
import { assertCustomerInScope, type Caller } from '../tenancy/caller.js';
import type { Customer } from '../tenancy/customer.service.js';
import { availableServices } from './resale.js';

export interface CatalogOffer {
  service: Service;
  /** The customer has it now (any status but NotProvisioned). */
  assigned: boolean;
  packages: CustomerPlan[];
  userPlans: UserPlan[];
}

/** The services a customer may be given (its parent's resale list), with their packages and user plans. */
export async function catalogFor(db: Executor, caller: Caller, customer: Customer): Promise<CatalogOffer[]> {
  assertCustomerInScope(caller, customer);
  const services = await availableServices(db, customer);
  if (services.length === 0) return [];
  const ids = services.map((s) => s.id);
  const [packages, plans, assigned] = await Promise.all([
    db.selectFrom('customer_plans').selectAll().where('service_id', 'in', ids).orderBy('id').execute(),
    db.selectFrom('user_plans').selectAll().where('service_id', 'in', ids).orderBy('id').execute(),
    db
      .selectFrom('customer_services')
      .select('service_id')
      .where('customer_id', '=', customer.id)
      .where('status', '<>', 'NotProvisioned')
      .execute(),
  ]);
  return services.map((service) => ({
    service,
    assigned: assigned.some((a) => a.service_id === service.id),
    packages: packages.filter((p) => p.service_id === service.id),
    userPlans: plans.filter((p) => p.service_id === service.id),
  }));
}
