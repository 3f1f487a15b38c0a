import type { Executor, Tx } from '../core/db/database.js';
import { DomainError, must } from '../core/errors.js';
import type { ProvisioningStatus } from '../core/statuses.js';
import { createRequest } from '../provisioning/requests.js';
import { recordServiceChange } from '../billing/ledger/record-change.js';
import { assertCustomerInScope, requirePermission, type Caller } from '../tenancy/caller.js';
import type { Customer } from '../tenancy/customer.service.js';
import type { User } from '../tenancy/user.service.js';
import { assertRequiredProperties, getService, type NamedRef, type Service } from '../catalog/catalog.service.js';
import { provisionedCustomerService } from './service-assignment.service.js';

export interface ServiceInstance {
  id: number;
  name: string;
  status: ProvisioningStatus;
  properties: Record<string, string>;
}

/** Instances of a multi-instance customer service (seed 002: "Get all Instances for Multi-Instance Services"). */
export async function serviceInstances(db: Executor, customerServiceId: number): Promise<ServiceInstance[]> {
  const rows = await db
    .selectFrom('service_instances')
    .select(['id', 'name', 'status', 'properties'])
    .where('customer_service_id', '=', customerServiceId)
    .where('deleted_at', 'is', null)
    .orderBy('id')
    .execute();
  return rows;
}

async function activeCustomerService(tx: Tx, customer: Customer, ref: NamedRef): Promise<{ service: Service; csId: number }> {
  const service = await getService(tx, ref);
  if (!service.multi_instance) throw new DomainError('InvalidService', `Service '${service.code}' has no instances.`);
  const cs = await provisionedCustomerService(tx, customer, service);
  return { service, csId: cs.id };
}

/**
 * Adds an instance, or changes an existing one's properties. Returns undefined when nothing changed.
 */
export async function setServiceInstance(
  tx: Tx,
  caller: Caller,
  customer: Customer,
  ref: NamedRef,
  input: { name: string; properties?: Record<string, string> },
): Promise<number | undefined> {
  assertCustomerInScope(caller, customer);
  requirePermission(caller, 'Manage Services');
  const { service, csId } = await activeCustomerService(tx, customer, ref);
  const existing = await tx
    .selectFrom('service_instances')
    .selectAll()
    .where('customer_service_id', '=', csId)
    .where('deleted_at', 'is', null)
    .where((eb) => eb(eb.fn('lower', ['name']), '=', input.name.toLowerCase()))
    .executeTakeFirst();
  const properties = JSON.stringify({ ...(existing?.properties ?? {}), ...(input.properties ?? {}) });
  if (existing) {
    if (JSON.stringify(existing.properties) === properties) return undefined;
    await tx.updateTable('service_instances').set({ properties }).where('id', '=', existing.id).execute();
    return createRequest(tx, caller, {
      entity: 'service_instance',
      entityId: existing.id,
      customerId: customer.id,
      action: 'update',
      desired: { service: service.code, instance: existing.name },
    });
  }
  await assertRequiredProperties(tx, service, 'instance', input.properties ?? {});
  const row = await tx
    .insertInto('service_instances')
    .values({ customer_service_id: csId, name: input.name, status: 'Requested', properties })
    .returning('id')
    .executeTakeFirstOrThrow();
  await recordServiceChange(tx, caller, {
    action: 'instance_added',
    customerId: customer.id,
    serviceId: service.id,
    customerServiceId: csId,
    instanceId: row.id,
    instanceName: input.name,
    sku: service.sku,
  });
  return createRequest(tx, caller, {
    entity: 'service_instance',
    entityId: row.id,
    customerId: customer.id,
    action: 'provision',
    desired: { service: service.code, instance: input.name },
  });
}

/** Deletes an instance (seed 002: "Only service instances can be deleted"). */
export async function deleteServiceInstance(tx: Tx, caller: Caller, customer: Customer, ref: NamedRef, name: string): Promise<number> {
  assertCustomerInScope(caller, customer);
  requirePermission(caller, 'Manage Services');
  const { service, csId } = await activeCustomerService(tx, customer, ref);
  const row = must(
    await tx
      .selectFrom('service_instances')
      .select(['id', 'name'])
      .where('customer_service_id', '=', csId)
      .where('deleted_at', 'is', null)
      .where((eb) => eb(eb.fn('lower', ['name']), '=', name.toLowerCase()))
      .executeTakeFirst(),
    () => new DomainError('InvalidService', `Instance '${name}' of service '${service.code}' not found.`),
  );
  await tx.updateTable('service_instances').set({ deleted_at: new Date(), status: 'Requested' }).where('id', '=', row.id).execute();
  // Users lose a deleted instance with it: their services are no longer tied to it.
  await tx.deleteFrom('user_service_instances').where('instance_id', '=', row.id).execute();
  await recordServiceChange(tx, caller, {
    action: 'instance_removed',
    customerId: customer.id,
    serviceId: service.id,
    customerServiceId: csId,
    instanceId: row.id,
    instanceName: row.name,
    quantity: '0',
  });
  return createRequest(tx, caller, {
    entity: 'service_instance',
    entityId: row.id,
    customerId: customer.id,
    action: 'delete',
    desired: { service: service.code, instance: row.name },
  });
}

/** The instances a user's service is tied to (seed 002: the CRM 2011 service of user01_CSP "for the Site01 instance"). */
export async function userServiceInstances(db: Executor, userServiceIds: number[]): Promise<ServiceInstance[]> {
  if (userServiceIds.length === 0) return [];
  return db
    .selectFrom('service_instances')
    .select(['id', 'name', 'status', 'properties'])
    .where('deleted_at', 'is', null)
    .where((eb) =>
      eb.exists(
        eb
          .selectFrom('user_service_instances')
          .select('instance_id')
          .whereRef('user_service_instances.instance_id', '=', 'service_instances.id')
          .where('user_service_instances.user_service_id', 'in', userServiceIds),
      ),
    )
    .orderBy('id')
    .execute();
}

/**
 * Ties a user's service to the named instances of the customer's service. Ties are only added:
 * like the seed's other lists, an instance not named is left alone, so GET → SET changes nothing.
 * Returns the request of the change, or undefined when every named instance was already tied.
 */
export async function tieUserServiceInstances(
  tx: Tx,
  caller: Caller,
  customer: Customer,
  user: User,
  ref: NamedRef,
  names: string[],
): Promise<number | undefined> {
  assertCustomerInScope(caller, customer);
  requirePermission(caller, 'Manage Services');
  const { service, csId } = await activeCustomerService(tx, customer, ref);
  const held = await tx
    .selectFrom('user_services')
    .select('id')
    .where('user_id', '=', user.id)
    .where('customer_service_id', '=', csId)
    .where('status', '!=', 'NotProvisioned')
    .orderBy('id')
    .execute();
  if (held.length === 0) throw new DomainError('InvalidService', `Service '${service.code}' is not provisioned to user '${user.name}'.`);
  const instances = await serviceInstances(tx, csId);
  const wanted = names.map((n) =>
    must(
      instances.find((i) => i.name.toLowerCase() === n.toLowerCase()),
      () => new DomainError('InvalidService', `Instance '${n}' of service '${service.code}' not found.`, { field: 'instances' }),
    ),
  );
  const tied = await userServiceInstances(
    tx,
    held.map((h) => h.id),
  );
  const added = wanted.filter((w, i) => !tied.some((t) => t.id === w.id) && wanted.findIndex((x) => x.id === w.id) === i);
  if (added.length === 0) return undefined;
  // Every plan row of the user's service carries the tie, so de-provisioning any of them can drop it.
  await tx
    .insertInto('user_service_instances')
    .values(held.flatMap((h) => added.map((a) => ({ user_service_id: h.id, instance_id: a.id }))))
    .onConflict((oc) => oc.doNothing())
    .execute();
  return createRequest(tx, caller, {
    entity: 'user_service',
    entityId: held[0]!.id,
    customerId: customer.id,
    action: 'update',
    desired: { service: service.code, instances: added.map((a) => a.name) },
  });
}
