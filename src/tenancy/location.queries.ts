import type { Executor, Tx } from '../core/db/database.js';
import type { LocationPropertyDefinition } from './schema.js';

export interface LocationRef {
  id?: number;
  name?: string;
}

export function selectLocations(db: Executor, ref: LocationRef = {}) {
  let q = db.selectFrom('locations').selectAll();
  if (ref.id !== undefined) q = q.where('id', '=', ref.id);
  if (ref.name !== undefined) q = q.where((eb) => eb(eb.fn('lower', ['name']), '=', ref.name!.toLowerCase()));
  return q.orderBy((eb) => eb.fn('lower', ['name'])).orderBy('id');
}

/** Services offered at each of the given locations. */
export function selectLocationServices(db: Executor, locationIds: number[]) {
  return db
    .selectFrom('location_services')
    .innerJoin('services', 'services.id', 'location_services.service_id')
    .select(['location_services.location_id', 'services.id', 'services.code', 'services.fullname'])
    .where('location_services.location_id', 'in', locationIds)
    .orderBy('services.code');
}

export interface LocationColumns {
  name: string;
  description?: string;
  customerProperties?: LocationPropertyDefinition[];
  additionalProperties?: LocationPropertyDefinition[];
}

export async function insertLocation(tx: Tx, c: LocationColumns): Promise<number> {
  const row = await tx
    .insertInto('locations')
    .values({
      name: c.name,
      description: c.description ?? '',
      customer_properties: JSON.stringify(c.customerProperties ?? []),
      additional_properties: JSON.stringify(c.additionalProperties ?? []),
    })
    .returning('id')
    .executeTakeFirstOrThrow();
  return row.id;
}

export async function updateLocation(tx: Tx, id: number, c: Partial<LocationColumns>): Promise<void> {
  const set: Record<string, string> = {};
  if (c.name !== undefined) set.name = c.name;
  if (c.description !== undefined) set.description = c.description;
  if (c.customerProperties !== undefined) set.customer_properties = JSON.stringify(c.customerProperties);
  if (c.additionalProperties !== undefined) set.additional_properties = JSON.stringify(c.additionalProperties);
  if (Object.keys(set).length) await tx.updateTable('locations').set(set).where('id', '=', id).execute();
}

export async function replaceLocationServices(tx: Tx, locationId: number, serviceIds: number[]): Promise<void> {
  await tx.deleteFrom('location_services').where('location_id', '=', locationId).execute();
  if (serviceIds.length) {
    await tx
      .insertInto('location_services')
      .values(serviceIds.map((service_id) => ({ location_id: locationId, service_id })))
      .execute();
  }
}

/** Live customers placed at the location, and users whose location names it (any tenant: locations are global). */
export async function locationUsage(db: Executor, id: number, name: string): Promise<{ customers: number; users: number }> {
  const customers = await db
    .selectFrom('customers')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .where('location_id', '=', id)
    .where('deleted_at', 'is', null)
    .executeTakeFirstOrThrow();
  const users = await db
    .selectFrom('users')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .where((eb) => eb(eb.fn('lower', ['location']), '=', name.toLowerCase()))
    .where('deleted_at', 'is', null)
    .executeTakeFirstOrThrow();
  return { customers: Number(customers.n), users: Number(users.n) };
}

export async function deleteLocationRow(tx: Tx, id: number): Promise<void> {
  await tx.deleteFrom('locations').where('id', '=', id).execute();
}
