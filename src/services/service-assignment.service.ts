import { sql, type RawBuilder, type Selectable } from 'kysely';
import type { Executor, Tx } from '../core/db/database.js';
import type { CustomerServicesTable } from './schema.js';
import { DomainError, userNotFound } from '../core/errors.js';
import { createRequest } from '../provisioning/requests.js';
import { recordServiceChange, recordUserServicesRemoved } from '../billing/ledger/record-change.js';
import { assertCustomerInScope, requirePermission, type Caller } from '../tenancy/caller.js';
import type { Customer } from '../tenancy/customer.service.js';
import type { User } from '../tenancy/user.service.js';
import {
  assertRequiredProperties,
  customerPlans,
  getCustomerPlan,
  getService,
  getUserPlan,
  userPlans,
  type CustomerPlan,
  type NamedRef,
  type Service,
  type UserPlan,
} from '../catalog/catalog.service.js';
import type { ProvisioningStatus } from '../core/statuses.js';
import { assertServiceAvailable } from './resale.js';

export interface UserPlanOffer {
  plan: NamedRef;
  enabled?: boolean;
  /** null = Unlimited. */
  userLimit?: number | null;
}

export interface CustomerServiceInput {
  service: NamedRef;
  version?: string;
  plan?: NamedRef;
  enabled?: boolean;
  userLimit?: number | null;
  isBilled?: boolean;
  properties?: Record<string, string>;
  /** Target-system placement (seed 002 <resourceconfiguration>); merged like properties. */
  resourceConfiguration?: Record<string, string>;
  userPlans?: UserPlanOffer[];
}

export interface CustomerServiceView {
  id: number;
  customerId: number;
  service: Service;
  plan: CustomerPlan | undefined;
  version: string | null;
  enabled: boolean;
  userLimit: number | null;
  isBilled: boolean;
  approvalPending: boolean;
  status: ProvisioningStatus;
  properties: Record<string, string>;
  resourceConfiguration: Record<string, unknown>;
  userPlans: { plan: UserPlan; enabled: boolean; userLimit: number | null; used: number }[];
  usersWithService: number;
  /** The service's catalog plans, offered or not (read with the view, so callers need not read them again). */
  catalog: { packages: CustomerPlan[]; userPlans: UserPlan[] };
}

const ACTIVE: ProvisioningStatus[] = ['Requested', 'InProgress', 'Provisioned', 'Failed', 'Pending'];

/** Customer services of one customer (already scoped by the caller when it was loaded). */
export async function customerServicesOf(db: Executor, customer: Customer, serviceId?: number): Promise<CustomerServiceView[]> {
  return selectViews(
    db,
    serviceId === undefined ? sql`cs.customer_id = ${customer.id}` : sql`cs.customer_id = ${customer.id} and cs.service_id = ${serviceId}`,
  );
}

type CustomerServiceRow = Selectable<CustomerServicesTable>;

interface ViewRow extends CustomerServiceRow {
  service: Service;
  packages: CustomerPlan[];
  user_plans: UserPlan[];
  offers: { user_plan_id: number; enabled: boolean; user_limit: number | null; used: number }[];
  users_with_service: number;
}

/**
 * Builds the views of the customer services `where` selects in one statement, however many there
 * are: the catalog rows, offers and usage counts come back as JSON beside each row. (The catalog
 * rows hold only text, numbers, booleans and JSON, so they survive the JSON round trip unchanged.)
 */
async function selectViews(db: Executor, where: RawBuilder<unknown>): Promise<CustomerServiceView[]> {
  const active = sql.join(ACTIVE);
  const { rows } = await sql<ViewRow>`
    select cs.*,
      to_jsonb(s) as service,
      (select coalesce(jsonb_agg(to_jsonb(p) order by p.id), '[]') from customer_plans p where p.service_id = cs.service_id) as packages,
      (select coalesce(jsonb_agg(to_jsonb(p) order by p.id), '[]') from user_plans p where p.service_id = cs.service_id) as user_plans,
      (select coalesce(jsonb_agg(jsonb_build_object(
                'user_plan_id', o.user_plan_id, 'enabled', o.enabled, 'user_limit', o.user_limit,
                'used', (select count(*) from user_services us
                         where us.customer_service_id = cs.id and us.user_plan_id = o.user_plan_id and us.status in (${active})))
              order by o.user_plan_id), '[]')
         from customer_service_user_plans o where o.customer_service_id = cs.id) as offers,
      (select count(distinct us.user_id) from user_services us where us.customer_service_id = cs.id and us.status in (${active})) as users_with_service
    from customer_services cs join services s on s.id = cs.service_id
    where ${where}
    order by cs.id`.execute(db);
  return rows.map(toView);
}

function toView(row: ViewRow): CustomerServiceView {
  return {
    id: row.id,
    customerId: row.customer_id,
    service: row.service,
    plan: row.packages.find((p) => p.id === row.customer_plan_id),
    version: row.version,
    enabled: row.enabled,
    userLimit: row.user_limit,
    isBilled: row.is_billed,
    approvalPending: row.approval_pending,
    status: row.status,
    properties: row.properties,
    resourceConfiguration: row.resource_configuration,
    userPlans: row.offers.map((o) => ({
      plan: row.user_plans.find((p) => p.id === o.user_plan_id)!,
      enabled: o.enabled,
      userLimit: o.user_limit,
      used: Number(o.used),
    })),
    usersWithService: Number(row.users_with_service),
    catalog: { packages: row.packages, userPlans: row.user_plans },
  };
}

function findCustomerService(db: Executor, customerId: number, serviceId: number): Promise<CustomerServiceRow | undefined> {
  return db
    .selectFrom('customer_services')
    .selectAll()
    .where('customer_id', '=', customerId)
    .where('service_id', '=', serviceId)
    .executeTakeFirst();
}

/** The customer's row of a service that is provisioned to it (user services and instances need one). */
export async function provisionedCustomerService(db: Executor, customer: Customer, service: Service): Promise<CustomerServiceRow> {
  const cs = await findCustomerService(db, customer.id, service.id);
  if (!cs || cs.status === 'NotProvisioned') {
    throw new DomainError('InvalidService', `Service '${service.code}' is not provisioned to customer '${customer.name}'.`);
  }
  return cs;
}

/**
 * Provisions a service to a customer, or changes it when it is already there.
 * Without a plan the first customer plan is used (seed 002: "the first customer plan is
 * automatically provisioned by default"). Returns undefined requestId when nothing changed.
 */
export async function provisionCustomerService(
  tx: Tx,
  caller: Caller,
  customer: Customer,
  input: CustomerServiceInput,
): Promise<{ customerService: CustomerServiceView; requestId: number | undefined }> {
  assertCustomerInScope(caller, customer);
  requirePermission(caller, 'Manage Services');
  const service = await getService(tx, input.service);
  const existing = await findCustomerService(tx, customer.id, service.id);
  const plans = await customerPlans(tx, service.id);
  const plan = input.plan
    ? await getCustomerPlan(tx, service, input.plan)
    : existing
      ? plans.find((p) => p.id === existing.customer_plan_id)
      : plans[0];
  const reprovision = existing !== undefined && existing.status === 'NotProvisioned';
  if (existing === undefined || reprovision) await assertServiceAvailable(tx, customer, service);
  const values = {
    customer_plan_id: plan?.id ?? null,
    version: input.version ?? existing?.version ?? service.version,
    enabled: input.enabled ?? existing?.enabled ?? true,
    user_limit: input.userLimit !== undefined ? input.userLimit : (existing?.user_limit ?? null),
    is_billed: input.isBilled ?? existing?.is_billed ?? true,
    properties: JSON.stringify({ ...(existing?.properties ?? {}), ...(input.properties ?? {}) }),
    resource_configuration: JSON.stringify({ ...(existing?.resource_configuration ?? {}), ...(input.resourceConfiguration ?? {}) }),
  };
  // Checked only when the service is (re-)provisioned: an update merges into what is already set.
  if (existing === undefined || reprovision)
    await assertRequiredProperties(tx, service, 'customer', JSON.parse(values.properties) as Record<string, string>);
  const recordChange = (action: 'customer_service_added' | 'customer_service_plan_changed', customerServiceId: number) =>
    recordServiceChange(tx, caller, {
      action,
      customerId: customer.id,
      serviceId: service.id,
      customerServiceId,
      planCode: plan?.name ?? null,
      planName: plan?.fullname ?? null,
      sku: plan?.sku ?? service.sku,
    });
  let row;
  let changed = reprovision || existing === undefined;
  if (existing === undefined) {
    row = await tx
      .insertInto('customer_services')
      .values({ customer_id: customer.id, service_id: service.id, status: 'Requested', ...values })
      .returningAll()
      .executeTakeFirstOrThrow();
    await recordChange('customer_service_added', row.id);
  } else {
    const before = {
      customer_plan_id: existing.customer_plan_id,
      version: existing.version,
      enabled: existing.enabled,
      user_limit: existing.user_limit,
      is_billed: existing.is_billed,
      properties: JSON.stringify(existing.properties),
      resource_configuration: JSON.stringify(existing.resource_configuration),
    };
    changed ||= (Object.keys(values) as (keyof typeof values)[]).some((k) => before[k] !== values[k]);
    row = changed
      ? await tx
          .updateTable('customer_services')
          .set({ ...values, ...(reprovision ? { status: 'Requested' as const } : {}), modified_at: new Date() })
          .where('id', '=', existing.id)
          .returningAll()
          .executeTakeFirstOrThrow()
      : existing;
    if (reprovision) await recordChange('customer_service_added', row.id);
    else if (existing.customer_plan_id !== values.customer_plan_id) await recordChange('customer_service_plan_changed', row.id);
  }
  // seed 002: "if you don't specify any user plans, then all user plans are enabled"; a userpackage
  // that is named must say <enabled>True</enabled>, and the unnamed ones stay disabled (the demo's HE).
  const named = input.userPlans ?? [];
  if (named.length || existing === undefined)
    changed = (await offerUserPlans(tx, service, row.id, named, existing === undefined && named.length === 0)) || changed;
  const requestId = changed
    ? await createRequest(tx, caller, {
        entity: 'customer_service',
        entityId: row.id,
        customerId: customer.id,
        action: existing === undefined || reprovision ? 'provision' : 'update',
        desired: { service: service.code, plan: plan?.name ?? null },
      })
    : undefined;
  return { customerService: (await selectViews(tx, sql`cs.id = ${row.id}`))[0]!, requestId };
}

/** Applies the user plans a SET names; with `enableUnnamed`, every other plan is offered enabled too. */
async function offerUserPlans(
  tx: Tx,
  service: Service,
  customerServiceId: number,
  named: UserPlanOffer[],
  enableUnnamed: boolean,
): Promise<boolean> {
  let changed = false;
  const plans = await Promise.all(named.map((o) => getUserPlan(tx, service, o.plan)));
  const unnamed = enableUnnamed ? (await userPlans(tx, service.id)).filter((p) => !plans.some((n) => n.id === p.id)) : [];
  const offers = [...named, ...unnamed.map((p): UserPlanOffer => ({ plan: { id: p.id }, enabled: true }))];
  const existing = await tx
    .selectFrom('customer_service_user_plans')
    .selectAll()
    .where('customer_service_id', '=', customerServiceId)
    .execute();
  for (const [i, offer] of offers.entries()) {
    const plan = plans[i] ?? unnamed[i - plans.length]!;
    const current = existing.find((o) => o.user_plan_id === plan.id);
    // seed 002: a userpackage must say <enabled>True</enabled>, otherwise it is disabled by default.
    const enabled = offer.enabled ?? current?.enabled ?? false;
    const userLimit = offer.userLimit !== undefined ? offer.userLimit : (current?.user_limit ?? null);
    if (current && current.enabled === enabled && current.user_limit === userLimit) continue;
    changed = true;
    await tx
      .insertInto('customer_service_user_plans')
      .values({ customer_service_id: customerServiceId, user_plan_id: plan.id, enabled, user_limit: userLimit })
      .onConflict((oc) => oc.columns(['customer_service_id', 'user_plan_id']).doUpdateSet({ enabled, user_limit: userLimit }))
      .execute();
  }
  return changed;
}

/** De-provisions a customer service and, with it, the service of every user that has it. */
export async function deprovisionCustomerService(tx: Tx, caller: Caller, customer: Customer, serviceRef: NamedRef): Promise<number> {
  assertCustomerInScope(caller, customer);
  requirePermission(caller, 'Manage Services');
  const service = await getService(tx, serviceRef);
  const row = await findCustomerService(tx, customer.id, service.id);
  if (!row) throw new DomainError('InvalidService', `Service '${service.code}' is not provisioned to customer '${customer.name}'.`);
  const userServices = await tx
    .selectFrom('user_services')
    .innerJoin('users', 'users.id', 'user_services.user_id')
    .select(['user_services.id', 'user_services.user_id'])
    .where('customer_service_id', '=', row.id)
    .where('user_services.status', 'in', ACTIVE)
    .execute();
  await recordUserServicesRemoved(
    tx,
    caller,
    customer.id,
    userServices.map((us) => ({ ...us, customer_service_id: row.id, service_id: service.id })),
  );
  await tx
    .updateTable('user_services')
    .set({ status: 'Requested', modified_at: new Date() })
    .where('customer_service_id', '=', row.id)
    .where('status', 'in', ACTIVE)
    .execute();
  // A de-provisioned service holds no instances, for the customer or any of its users.
  await tx
    .deleteFrom('user_service_instances')
    .where('user_service_id', 'in', tx.selectFrom('user_services').select('id').where('customer_service_id', '=', row.id))
    .execute();
  await tx.updateTable('customer_services').set({ status: 'Requested', modified_at: new Date() }).where('id', '=', row.id).execute();
  await recordServiceChange(tx, caller, {
    action: 'customer_service_removed',
    customerId: customer.id,
    serviceId: service.id,
    customerServiceId: row.id,
    quantity: '0',
  });
  const requestId = await createRequest(tx, caller, {
    entity: 'customer_service',
    entityId: row.id,
    customerId: customer.id,
    action: 'deprovision',
    desired: { service: service.code },
  });
  // Children run first (a de-provision removes dependants before the parent): each user's service.
  for (const us of userServices) {
    await createRequest(tx, caller, {
      entity: 'user_service',
      entityId: us.id,
      customerId: customer.id,
      action: 'deprovision',
      parentId: requestId,
      sequence: 1,
      desired: { service: service.code },
    });
  }
  return requestId;
}

export interface UserServiceInput {
  service: NamedRef;
  /** User plans to hold; empty = the service's default (first enabled) plan. */
  userPlans?: NamedRef[];
  enabled?: boolean;
  properties?: Record<string, string>;
}

export interface UserServiceView {
  id: number;
  userId: number;
  service: Service;
  userPlan: UserPlan | undefined;
  enabled: boolean;
  status: ProvisioningStatus;
  properties: Record<string, string>;
}

export async function userServicesOf(db: Executor, user: User, serviceId?: number): Promise<UserServiceView[]> {
  let q = db
    .selectFrom('user_services')
    .innerJoin('customer_services', 'customer_services.id', 'user_services.customer_service_id')
    .selectAll('user_services')
    .select('customer_services.service_id')
    .where('user_services.user_id', '=', user.id);
  if (serviceId !== undefined) q = q.where('customer_services.service_id', '=', serviceId);
  const rows = await q.orderBy('user_services.id').execute();
  if (rows.length === 0) return [];
  const serviceIds = [...new Set(rows.map((r) => r.service_id))];
  const [services, plans] = await Promise.all([
    db.selectFrom('services').selectAll().where('id', 'in', serviceIds).execute(),
    db.selectFrom('user_plans').selectAll().where('service_id', 'in', serviceIds).execute(),
  ]);
  return rows.map((r) => ({
    id: r.id,
    userId: r.user_id,
    service: services.find((s) => s.id === r.service_id)!,
    userPlan: r.user_plan_id === null ? undefined : plans.find((p) => p.id === r.user_plan_id),
    enabled: r.enabled,
    status: r.status,
    properties: r.properties,
  }));
}

/**
 * Provisions a service to a user. The customer must have the service, the user plan must be
 * enabled for the customer, and the plan's and the service's user limits must not be exceeded.
 */
export async function provisionUserService(
  tx: Tx,
  caller: Caller,
  customer: Customer,
  user: User,
  input: UserServiceInput,
): Promise<{ requestId: number | undefined }> {
  assertCustomerInScope(caller, customer);
  if (user.customerId !== customer.id) throw userNotFound(user.name);
  requirePermission(caller, 'Manage Services');
  const service = await getService(tx, input.service);
  if (!service.has_user_service) throw new DomainError('InvalidService', `Service '${service.code}' has no user service.`);
  const cs = await provisionedCustomerService(tx, customer, service);
  const offers = await tx.selectFrom('customer_service_user_plans').selectAll().where('customer_service_id', '=', cs.id).execute();
  const all = await userPlans(tx, service.id);
  const wanted: (UserPlan | undefined)[] = input.userPlans?.length
    ? await Promise.all(input.userPlans.map((r) => getUserPlan(tx, service, r)))
    : [all.find((p) => offers.some((o) => o.user_plan_id === p.id && o.enabled))];
  if (all.length > 0 && wanted.some((p) => p === undefined)) {
    throw new DomainError('InvalidService', `No user plan of service '${service.code}' is enabled for customer '${customer.name}'.`, {
      field: 'userPlans',
    });
  }
  const current = await tx
    .selectFrom('user_services')
    .selectAll()
    .where('user_id', '=', user.id)
    .where('customer_service_id', '=', cs.id)
    .execute();
  let firstRequest: number | undefined;
  const single = service.user_plan_tag === 'userpackage';
  for (const plan of wanted) {
    if (plan) {
      const offer = offers.find((o) => o.user_plan_id === plan.id);
      if (!offer || !offer.enabled) {
        throw new DomainError(
          'InvalidService',
          `User plan '${plan.fullname}' is not enabled for service '${service.code}' of customer '${customer.name}'.`,
          { field: 'userPlans' },
        );
      }
    }
    // HE holds one user package: a different package is a plan change, not a second mailbox.
    const mine = current.find((c) => c.user_plan_id === (plan?.id ?? null)) ?? (single ? current[0] : undefined);
    const active = mine !== undefined && mine.status !== 'NotProvisioned';
    const planChange = active && mine!.user_plan_id !== (plan?.id ?? null);
    if (!active || planChange) await assertWithinLimits(tx, service, cs, plan, offers);
    const properties = JSON.stringify({ ...(mine?.properties ?? {}), ...(input.properties ?? {}) });
    const enabled = input.enabled ?? mine?.enabled ?? true;
    let id: number;
    if (!mine) {
      id = (
        await tx
          .insertInto('user_services')
          .values({
            user_id: user.id,
            customer_service_id: cs.id,
            user_plan_id: plan?.id ?? null,
            enabled,
            status: 'Requested',
            properties,
          })
          .returning('id')
          .executeTakeFirstOrThrow()
      ).id;
    } else {
      const unchanged = active && !planChange && JSON.stringify(mine.properties) === properties && mine.enabled === enabled;
      if (unchanged) continue;
      id = mine.id;
      await tx
        .updateTable('user_services')
        .set({ user_plan_id: plan?.id ?? null, enabled, properties, status: 'Requested', modified_at: new Date() })
        .where('id', '=', id)
        .execute();
    }
    const sku = plan?.sku ?? service.user_sku;
    const action = !active ? 'user_service_added' : planChange ? 'user_service_plan_changed' : undefined;
    if (action)
      await recordServiceChange(tx, caller, {
        action,
        customerId: customer.id,
        userId: user.id,
        serviceId: service.id,
        customerServiceId: cs.id,
        userServiceId: id,
        planCode: plan?.name ?? null,
        planName: plan?.fullname ?? null,
        sku,
      });
    const requestId = await createRequest(tx, caller, {
      entity: 'user_service',
      entityId: id,
      customerId: customer.id,
      action: active ? 'update' : 'provision',
      desired: { service: service.code, userPlan: plan?.name ?? null },
    });
    firstRequest ??= requestId;
  }
  return { requestId: firstRequest };
}

async function assertWithinLimits(
  tx: Tx,
  service: Service,
  cs: { id: number; user_limit: number | null },
  plan: UserPlan | undefined,
  offers: { user_plan_id: number; user_limit: number | null }[],
): Promise<void> {
  const count = async (planId?: number) => {
    let q = tx
      .selectFrom('user_services')
      .select((eb) => eb.fn.count<number>('user_id').distinct().as('n'))
      .where('customer_service_id', '=', cs.id)
      .where('status', 'in', ACTIVE);
    if (planId !== undefined) q = q.where('user_plan_id', '=', planId);
    return Number((await q.executeTakeFirstOrThrow()).n);
  };
  if (cs.user_limit !== null && (await count()) >= cs.user_limit) {
    throw new DomainError('InvalidService', `The user limit (${cs.user_limit}) of service '${service.code}' has been reached.`, {
      field: 'userPlans',
    });
  }
  const offer = plan && offers.find((o) => o.user_plan_id === plan.id);
  if (plan && offer && offer.user_limit !== null && (await count(plan.id)) >= offer.user_limit) {
    throw new DomainError('InvalidService', `The user limit (${offer.user_limit}) of user plan '${plan.fullname}' has been reached.`, {
      field: 'userPlans',
    });
  }
}

/** De-provisions a user's service (all its user plans). */
export async function deprovisionUserService(
  tx: Tx,
  caller: Caller,
  customer: Customer,
  user: User,
  serviceRef: NamedRef,
): Promise<number> {
  assertCustomerInScope(caller, customer);
  if (user.customerId !== customer.id) throw userNotFound(user.name);
  requirePermission(caller, 'Manage Services');
  const service = await getService(tx, serviceRef);
  const rows = await tx
    .selectFrom('user_services')
    .innerJoin('customer_services', 'customer_services.id', 'user_services.customer_service_id')
    .select(['user_services.id', 'user_services.customer_service_id', 'user_services.status'])
    .where('user_services.user_id', '=', user.id)
    .where('customer_services.service_id', '=', service.id)
    .execute();
  if (rows.length === 0) throw new DomainError('InvalidService', `Service '${service.code}' is not provisioned to user '${user.name}'.`);
  const removed = rows.filter((r) => r.status !== 'NotProvisioned').map((r) => ({ ...r, user_id: user.id, service_id: service.id }));
  await recordUserServicesRemoved(tx, caller, customer.id, removed);
  let first: number | undefined;
  for (const r of rows) {
    await tx.updateTable('user_services').set({ status: 'Requested', modified_at: new Date() }).where('id', '=', r.id).execute();
    await tx.deleteFrom('user_service_instances').where('user_service_id', '=', r.id).execute();
    const id = await createRequest(tx, caller, {
      entity: 'user_service',
      entityId: r.id,
      customerId: customer.id,
      action: 'deprovision',
      desired: { service: service.code },
    });
    first ??= id;
  }
  return first!;
}
