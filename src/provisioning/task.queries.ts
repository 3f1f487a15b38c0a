import { sql } from 'kysely';
import type { Executor } from '../core/db/database.js';
import type { DriverName } from './drivers/registry.js';

/**
 * Rows the engine reads to build a driver task. Deleted entities are included: delete requests need them.
 * A customer's or user's task goes to every driver configuration of the catalog (they exist in each
 * target system); with `withCatalogTargets` those come in the same statement, enabled services in id order.
 */
export function customerRow(db: Executor, id: number, withCatalogTargets: boolean) {
  return db
    .selectFrom('customers as c')
    .select(['c.id', 'c.name', 'c.fullname', 'c.primary_domain', 'c.enabled', 'c.status'])
    .select(
      // The short codes from the root down to the customer's parent, in path order (drivers nest
      // OUs by them), read with the row: one round trip less for every request.
      sql<string[]>`array(
        select a.name from unnest(string_to_array(trim(both '/' from c.path), '/')::int[]) with ordinality as p(id, n)
        join customers a on a.id = p.id
        where p.id <> c.id
        order by p.n)`.as('ancestry'),
    )
    .select((withCatalogTargets ? everyCatalogTarget : noCatalogTarget).as('catalogTargets'))
    .where('c.id', '=', id)
    .executeTakeFirst();
}

/** A driver with its stored (still sealed) configuration, as a catalog service names them. */
export interface DriverTarget {
  driver: DriverName;
  config: Record<string, unknown>;
}

/** Every enabled service's driver and configuration, in the catalog's order. */
const everyCatalogTarget = sql<DriverTarget[]>`(
  select coalesce(json_agg(json_build_object('driver', s.driver, 'config', s.driver_config) order by s.id), '[]')
  from services s where s.enabled)`;
const noCatalogTarget = sql<DriverTarget[]>`'[]'::json`;

export function userRow(db: Executor, id: number) {
  return db
    .selectFrom('users')
    .select(['id', 'customer_id', 'name', 'upn', 'first_name', 'last_name', 'display_name', 'enabled', 'status'])
    .where('id', '=', id)
    .executeTakeFirst();
}

export function customerServiceRow(db: Executor, id: number) {
  return db
    .selectFrom('customer_services')
    .innerJoin('services', 'services.id', 'customer_services.service_id')
    .leftJoin('customer_plans', 'customer_plans.id', 'customer_services.customer_plan_id')
    .select([
      'customer_services.id',
      'customer_services.status',
      'customer_services.properties',
      'services.code',
      'services.fullname',
      'services.driver',
      'services.driver_config',
      'customer_plans.name as plan_name',
    ])
    .where('customer_services.id', '=', id)
    .executeTakeFirst();
}

export function userServiceRow(db: Executor, id: number) {
  return db
    .selectFrom('user_services')
    .innerJoin('customer_services', 'customer_services.id', 'user_services.customer_service_id')
    .innerJoin('services', 'services.id', 'customer_services.service_id')
    .leftJoin('customer_plans', 'customer_plans.id', 'customer_services.customer_plan_id')
    .leftJoin('user_plans', 'user_plans.id', 'user_services.user_plan_id')
    .select([
      'user_services.id',
      'user_services.user_id',
      'user_services.status',
      'user_services.properties',
      'services.code',
      'services.fullname',
      'services.driver',
      'services.driver_config',
      'customer_plans.name as plan_name',
      'user_plans.name as user_plan_name',
    ])
    .where('user_services.id', '=', id)
    .executeTakeFirst();
}

export function serviceInstanceRow(db: Executor, id: number) {
  return db
    .selectFrom('service_instances')
    .innerJoin('customer_services', 'customer_services.id', 'service_instances.customer_service_id')
    .innerJoin('services', 'services.id', 'customer_services.service_id')
    .select([
      'service_instances.id',
      'service_instances.name',
      'service_instances.status',
      'service_instances.properties',
      'customer_services.id as customer_service_id',
      'services.code',
      'services.fullname',
      'services.driver',
      'services.driver_config',
    ])
    .where('service_instances.id', '=', id)
    .executeTakeFirst();
}

/** Users that hold a customer service (its group's members). */
export async function memberNames(db: Executor, customerServiceId: number): Promise<string[]> {
  const rows = await db
    .selectFrom('user_services')
    .innerJoin('users', 'users.id', 'user_services.user_id')
    .select('users.name')
    .distinct()
    .where('user_services.customer_service_id', '=', customerServiceId)
    .where('user_services.status', '<>', 'NotProvisioned')
    .where('users.deleted_at', 'is', null)
    .where('users.status', '<>', 'NotProvisioned')
    .orderBy('users.name')
    .execute();
  return rows.map((r) => r.name);
}
