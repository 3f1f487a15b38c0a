import { sql, type Selectable } from 'kysely';
import type { Executor, Tx } from '../core/db/database.js';
import { DomainError, must, serviceNotFound } from '../core/errors.js';
import type { CatalogService } from './default-catalog.js';
import type { CustomerPlansTable, PropertyDefinitionsTable, ServicesTable, UserPlansTable } from './schema.js';

export type Service = Selectable<ServicesTable>;
export type CustomerPlan = Selectable<CustomerPlansTable>;
export type UserPlan = Selectable<UserPlansTable>;
export type PropertyDefinition = Selectable<PropertyDefinitionsTable>;

export interface NamedRef {
  name?: string;
  fullname?: string;
  id?: number;
}

/**
 * Adds the catalog entries that are missing; existing ones are left as the operator
 * changed them, so loading twice (every start) changes nothing.
 */
export async function loadCatalog(tx: Tx, catalog: CatalogService[]): Promise<void> {
  for (const s of catalog) {
    await tx
      .insertInto('services')
      .values({
        code: s.code,
        fullname: s.fullname,
        description: s.description ?? '',
        version: s.version ?? null,
        multi_instance: s.multiInstance ?? false,
        has_user_service: s.hasUserService ?? true,
        user_plan_tag: s.userPlanTag ?? 'userplan',
        driver: s.driver ?? 'simulated',
        sku: s.sku ?? null,
        user_sku: s.userSku ?? null,
      })
      .onConflict((oc) => oc.expression(sql`lower(code)`).doNothing())
      .execute();
    const service = await getService(tx, { name: s.code });
    for (const p of s.plans ?? []) {
      await tx
        .insertInto('customer_plans')
        .values({
          service_id: service.id,
          name: p.name,
          fullname: p.fullname,
          sku: p.sku ?? null,
          properties: JSON.stringify(p.properties ?? {}),
        })
        .onConflict((oc) => oc.expression(sql`service_id, lower(name)`).doNothing())
        .execute();
    }
    for (const p of s.userPlans ?? []) {
      await tx
        .insertInto('user_plans')
        .values({
          service_id: service.id,
          name: p.name,
          fullname: p.fullname,
          sku: p.sku ?? null,
          properties: JSON.stringify(p.properties ?? {}),
        })
        .onConflict((oc) => oc.expression(sql`service_id, lower(name)`).doNothing())
        .execute();
    }
    for (const d of s.properties ?? []) {
      await tx
        .insertInto('property_definitions')
        .values({
          service_id: service.id,
          scope: d.scope,
          name: d.name,
          displayname: d.displayname,
          type: d.type ?? 'string',
          default_value: d.default ?? null,
          options: JSON.stringify(d.options ?? []),
          required: d.required ?? false,
        })
        .onConflict((oc) => oc.expression(sql`service_id, scope, lower(name)`).doNothing())
        .execute();
    }
  }
}

export async function listServices(db: Executor): Promise<Service[]> {
  return db.selectFrom('services').selectAll().where('enabled', '=', true).orderBy('code').execute();
}

/** Whether `service` is the one `ref` names, as findService matches it (code and full name in any case). */
export function serviceMatches(service: Service, ref: NamedRef): boolean {
  if (ref.id === undefined && ref.name === undefined && ref.fullname === undefined) return false;
  return (
    (ref.id === undefined || service.id === ref.id) &&
    (ref.name === undefined || service.code.toLowerCase() === ref.name.toLowerCase()) &&
    (ref.fullname === undefined || service.fullname.toLowerCase() === ref.fullname.toLowerCase())
  );
}

export async function findService(db: Executor, ref: NamedRef): Promise<Service | undefined> {
  let q = db.selectFrom('services').selectAll();
  if (ref.id !== undefined) q = q.where('id', '=', ref.id);
  if (ref.name !== undefined) q = q.where((eb) => eb(eb.fn('lower', ['code']), '=', ref.name!.toLowerCase()));
  if (ref.fullname !== undefined) q = q.where((eb) => eb(eb.fn('lower', ['fullname']), '=', ref.fullname!.toLowerCase()));
  if (ref.id === undefined && ref.name === undefined && ref.fullname === undefined) return undefined;
  return q.executeTakeFirst();
}

export async function getService(db: Executor, ref: NamedRef): Promise<Service> {
  return must(await findService(db, ref), () => serviceNotFound(ref.name ?? ref.fullname ?? String(ref.id ?? '')));
}

function byNameOrFullname<T extends { name: string; fullname: string; id: number }>(rows: T[], ref: NamedRef): T | undefined {
  return rows.find(
    (r) =>
      (ref.id === undefined || r.id === ref.id) &&
      (ref.name === undefined || r.name.toLowerCase() === ref.name.toLowerCase()) &&
      (ref.fullname === undefined || r.fullname.toLowerCase() === ref.fullname.toLowerCase()),
  );
}

export async function customerPlans(db: Executor, serviceId: number): Promise<CustomerPlan[]> {
  return db.selectFrom('customer_plans').selectAll().where('service_id', '=', serviceId).orderBy('id').execute();
}

export async function userPlans(db: Executor, serviceId: number): Promise<UserPlan[]> {
  return db.selectFrom('user_plans').selectAll().where('service_id', '=', serviceId).orderBy('id').execute();
}

export async function getCustomerPlan(db: Executor, service: Service, ref: NamedRef): Promise<CustomerPlan> {
  return must(
    byNameOrFullname(await customerPlans(db, service.id), ref),
    () =>
      new DomainError('InvalidService', `Package '${ref.name ?? ref.fullname ?? ref.id}' not found for service '${service.code}'.`, {
        field: 'plan',
      }),
  );
}

export async function getUserPlan(db: Executor, service: Service, ref: NamedRef): Promise<UserPlan> {
  const tag = service.user_plan_tag === 'userpackage' ? 'User package' : 'User plan';
  return must(
    byNameOrFullname(await userPlans(db, service.id), ref),
    () =>
      new DomainError('InvalidService', `${tag} '${ref.name ?? ref.fullname ?? ref.id}' not found for service '${service.code}'.`, {
        field: 'userPlans',
      }),
  );
}

export async function propertyDefinitions(
  db: Executor,
  serviceId: number,
  scope: PropertyDefinition['scope'],
): Promise<PropertyDefinition[]> {
  return db
    .selectFrom('property_definitions')
    .selectAll()
    .where('service_id', '=', serviceId)
    .where('scope', '=', scope)
    .orderBy('id')
    .execute();
}

/**
 * Fails with InvalidProperty (code 19) when a required property has neither a value nor a
 * default (seed 002: "The File Sharing Service has one required setting: FileShareServer").
 */
export async function assertRequiredProperties(
  db: Executor,
  service: Service,
  scope: PropertyDefinition['scope'],
  properties: Record<string, string>,
): Promise<void> {
  const given = new Map(Object.entries(properties).map(([k, v]) => [k.toLowerCase(), v.trim()]));
  const missing = (await propertyDefinitions(db, service.id, scope)).filter(
    (d) => d.required && !given.get(d.name.toLowerCase()) && !d.default_value,
  );
  if (missing.length === 0) return;
  const names = missing.map((d) => d.name);
  const where = scope === 'instance' ? `an instance of service '${service.code}'` : `service '${service.code}'`;
  throw new DomainError(
    'InvalidProperty',
    `${names.length === 1 ? 'The property' : 'The properties'} '${names.join("', '")}' ${names.length === 1 ? 'is' : 'are'} required to provision ${where}.`,
    { service: service.code, properties: names, field: 'properties' },
  );
}
