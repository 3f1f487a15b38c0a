import type { Executor, Tx } from '../core/db/database.js';
import { DomainError, must } from '../core/errors.js';
import type { ProvisioningStatus } from '../core/statuses.js';
import { createRequest } from '../provisioning/requests.js';
import { recordServiceChange } from '../billing/ledger/record-change.js';
import { assertCustomerInScope, requirePermission, type Caller } from '../tenancy/caller.js';
import type { Customer } from '../tenancy/customer.service.js';
import { getService, type NamedRef, type Service } from '../catalog/catalog.service.js';

export interface ServiceInstance {
  id: number;
  name: string;
  status: ProvisioningStatus;
  properties: Record<string, string>;
}

/** Instances of a multi-instance customer service (seed 002: "Get all Instances for Multi-Instance Services"). */
export async function serviceInstances(db: Executor, customerServiceId: number): Promise<ServiceInstance[]> {
  const rows = await db.selectFrom('service_instances').select(['id', 'name', 'status', 'properties']).where('customer_service_id', '=', customerServiceId).where('deleted_at', 'is', null).orderBy('id').execute();
  return rows;
}

async function activeCustomerService(tx: Tx, customer: Customer, ref: NamedRef): Promise<{ service: Service; csId: number }> {
  const service = await getService(tx, ref);
  if (!service.multi_instance) throw new DomainError('InvalidService', `Service '${service.code}' has no instances.`);
  const cs = await tx.selectFrom('customer_services').select(['id', 'status']).where('customer_id', '=', customer.id).where('service_id', '=', service.id).executeTakeFirst();
  if (!cs || cs.status === 'NotProvisioned') throw new DomainError('InvalidService', `Service '${service.code}' is not provisioned to customer '${customer.name}'.`);
  return { service, csId: cs.id };
}

/**
 * Adds an instance, or changes an existing one's properties. Returns undefined when nothing changed.
 */
export async function setServiceInstance(tx: Tx, caller: Caller, customer: Customer, ref: NamedRef, input: { name: string; properties?: Record<string, string> }): Promise<number | undefined> {
  assertCustomerInScope(caller, customer);
  requirePermission(caller, 'Manage Services');
  const { service, csId } = await activeCustomerService(tx, customer, ref);
  const existing = await tx.selectFrom('service_instances').selectAll().where('customer_service_id', '=', csId).where('deleted_at', 'is', null).where((eb) => eb(eb.fn('lower', ['name']), '=', input.name.toLowerCase())).executeTakeFirst();
  const properties = JSON.stringify({ ...(existing?.properties ?? {}), ...(input.properties ?? {}) });
  if (existing) {
    if (JSON.stringify(existing.properties) === properties) return undefined;
    await tx.updateTable('service_instances').set({ properties }).where('id', '=', existing.id).execute();
    return createRequest(tx, caller, { entity: 'service_instance', entityId: existing.id, customerId: customer.id, action: 'update', desired: { service: service.code, instance: existing.name } });
  }
  const row = await tx.insertInto('service_instances').values({ customer_service_id: csId, name: input.name, status: 'Requested', properties }).returning('id').executeTakeFirstOrThrow();
  await recordServiceChange(tx, caller, { action: 'instance_added', customerId: customer.id, serviceId: service.id, customerServiceId: csId, instanceId: row.id, instanceName: input.name, sku: service.sku });
  return createRequest(tx, caller, { entity: 'service_instance', entityId: row.id, customerId: customer.id, action: 'provision', desired: { service: service.code, instance: input.name } });
}

/** Deletes an instance (seed 002: "Only service instances can be deleted"). */
export async function deleteServiceInstance(tx: Tx, caller: Caller, customer: Customer, ref: NamedRef, name: string): Promise<number> {
  assertCustomerInScope(caller, customer);
  requirePermission(caller, 'Manage Services');
  const { service, csId } = await activeCustomerService(tx, customer, ref);
  const row = must(
    await tx.selectFrom('service_instances').select(['id', 'name']).where('customer_service_id', '=', csId).where('deleted_at', 'is', null).where((eb) => eb(eb.fn('lower', ['name']), '=', name.toLowerCase())).executeTakeFirst(),
    () => new DomainError('InvalidService', `Instance '${name}' of service '${service.code}' not found.`),
  );
  await tx.updateTable('service_instances').set({ deleted_at: new Date(), status: 'Requested' }).where('id', '=', row.id).execute();
  await recordServiceChange(tx, caller, { action: 'instance_removed', customerId: customer.id, serviceId: service.id, customerServiceId: csId, instanceId: row.id, instanceName: row.name, quantity: '0' });
  return createRequest(tx, caller, { entity: 'service_instance', entityId: row.id, customerId: customer.id, action: 'delete', desired: { service: service.code, instance: row.name } });
}
