import type { Executor, Tx } from '../core/db/database.js';
import { DomainError, validation } from '../core/errors.js';
import { requirePermission, type Caller } from '../tenancy/caller.js';
import { customerPlans, getCustomerPlan, getService, getUserPlan, listServices, userPlans, type NamedRef } from './catalog.service.js';
import { DEFAULT_CATALOG } from './default-catalog.js';
import { insertSkuChange, selectLastSkuChanges, updatePlanSku, updateServiceSku, type SkuTarget } from './catalog-skus.queries.js';

/** One SKU (stock code) of the catalog: what it is now, what Tenantry shipped, who changed it last. */
export interface SkuEntry {
  sku: string | null;
  defaultSku: string | null;
  changedAt: Date | null;
  changedBy: string | null;
}

export interface CatalogPlanSkus extends SkuEntry {
  id: number;
  name: string;
  fullname: string;
}

export interface CatalogServiceSkus {
  id: number;
  code: string;
  fullname: string;
  hasUserService: boolean;
  multiInstance: boolean;
  /** Billed for a customer service without a plan (or whose plan has no SKU) and for each instance. */
  service: SkuEntry;
  /** Billed for a user service without a user plan (or whose user plan has no SKU). */
  userService: SkuEntry;
  plans: CatalogPlanSkus[];
  userPlans: CatalogPlanSkus[];
}

/** Which SKU to change: the service's own, its per-user one, a customer plan's or a user plan's. */
export interface SkuSelector {
  service: NamedRef;
  plan?: NamedRef;
  userPlan?: NamedRef;
  /** The service's per-user SKU (user services without a user plan). */
  userService?: boolean;
}

export const MAX_SKU_LENGTH = 100;

/**
 * The catalog's SKUs, as Atria's Service Billing Configuration lists them. The catalog is the
 * provider's and the same for every customer, so any console user may read it.
 */
export async function listCatalogSkus(db: Executor): Promise<CatalogServiceSkus[]> {
  const changes = new Map((await selectLastSkuChanges(db)).map((c) => [`${c.service_id}/${c.target}/${c.plan_id ?? ''}`, c]));
  const entry = (serviceId: number, target: SkuTarget, planId: number | null, sku: string | null, defaultSku: string | null): SkuEntry => {
    const c = changes.get(`${serviceId}/${target}/${planId ?? ''}`);
    return { sku, defaultSku, changedAt: c?.changed_at ?? null, changedBy: c?.actor_name ?? null };
  };
  const result: CatalogServiceSkus[] = [];
  for (const s of await listServices(db)) {
    const shipped = DEFAULT_CATALOG.find((d) => d.code.toLowerCase() === s.code.toLowerCase());
    const plan =
      (target: 'customer_plan' | 'user_plan') =>
      (p: { id: number; name: string; fullname: string; sku: string | null }): CatalogPlanSkus => {
        const shippedPlan = (target === 'customer_plan' ? shipped?.plans : shipped?.userPlans)?.find(
          (d) => d.name.toLowerCase() === p.name.toLowerCase(),
        );
        return { id: p.id, name: p.name, fullname: p.fullname, ...entry(s.id, target, p.id, p.sku, shippedPlan?.sku ?? null) };
      };
    result.push({
      id: s.id,
      code: s.code,
      fullname: s.fullname,
      hasUserService: s.has_user_service,
      multiInstance: s.multi_instance,
      service: entry(s.id, 'service', null, s.sku, shipped?.sku ?? null),
      userService: entry(s.id, 'service_user', null, s.user_sku, shipped?.userSku ?? null),
      plans: (await customerPlans(db, s.id)).map(plan('customer_plan')),
      userPlans: (await userPlans(db, s.id)).map(plan('user_plan')),
    });
  }
  return result;
}

/**
 * Sets (or clears, with null) one SKU of the catalog. Only the provider edits its catalog. The
 * ledger keeps the SKU of the day each change happened; the billing run labels items with the
 * catalog's SKU at the time it runs, so the change shows from the next run on (and a reprocess
 * re-labels a past period: docs/decisions.md "Catalog SKUs").
 */
export async function setCatalogSku(tx: Tx, caller: Caller, selector: SkuSelector, sku: string | null): Promise<SkuEntry> {
  requirePermission(caller, 'Manage Catalog');
  if (caller.customerPath.split('/').filter(Boolean).length !== 1)
    throw new DomainError('NotAuthorized', 'Only the service provider edits the catalog.');
  const value = normaliseSku(sku);
  const target = await locate(tx, selector);
  if (target.current !== value) {
    await target.write(value);
    await insertSkuChange(tx, {
      service_id: target.serviceId,
      target: target.kind,
      plan_id: target.planId,
      old_sku: target.current,
      new_sku: value,
      actor_user_id: caller.userId,
      actor_name: caller.userName,
    });
  }
  const listed = (await listCatalogSkus(tx)).find((s) => s.id === target.serviceId)!;
  if (target.kind === 'service') return listed.service;
  if (target.kind === 'service_user') return listed.userService;
  return (target.kind === 'customer_plan' ? listed.plans : listed.userPlans).find((p) => p.id === target.planId)!;
}

/** Puts one SKU back to what Tenantry shipped (none for services and plans added by the operator). */
export async function resetCatalogSku(tx: Tx, caller: Caller, selector: SkuSelector): Promise<SkuEntry> {
  const target = await locate(tx, selector);
  return setCatalogSku(tx, caller, selector, target.defaultSku);
}

function normaliseSku(sku: string | null): string | null {
  if (sku === null) return null;
  if (typeof sku !== 'string') throw validation('The SKU must be text.', { field: 'sku' });
  const value = sku.trim();
  if (value === '') return null;
  if (value.length > MAX_SKU_LENGTH) throw validation(`The SKU is longer than ${MAX_SKU_LENGTH} characters.`, { field: 'sku' });
  if (/[\u0000-\u001f\u007f]/.test(value)) throw validation('The SKU contains a control character.', { field: 'sku' });
  return value;
}

interface SkuTargetRow {
  kind: SkuTarget;
  serviceId: number;
  planId: number | null;
  current: string | null;
  defaultSku: string | null;
  write(sku: string | null): Promise<void>;
}

async function locate(tx: Tx, selector: SkuSelector): Promise<SkuTargetRow> {
  const chosen = [selector.plan, selector.userPlan, selector.userService || undefined].filter((x) => x !== undefined).length;
  if (chosen > 1) throw validation("Choose one of a plan, a user plan or the service's per-user SKU, not several.");
  const service = await getService(tx, selector.service);
  const shipped = DEFAULT_CATALOG.find((d) => d.code.toLowerCase() === service.code.toLowerCase());
  if (selector.plan) {
    const plan = await getCustomerPlan(tx, service, selector.plan);
    const defaultSku = shipped?.plans?.find((p) => p.name.toLowerCase() === plan.name.toLowerCase())?.sku ?? null;
    return {
      kind: 'customer_plan',
      serviceId: service.id,
      planId: plan.id,
      current: plan.sku,
      defaultSku,
      write: (sku) => updatePlanSku(tx, 'customer_plans', plan.id, sku),
    };
  }
  if (selector.userPlan) {
    if (!service.has_user_service) throw new DomainError('InvalidService', `Service '${service.code}' has no user services.`);
    const plan = await getUserPlan(tx, service, selector.userPlan);
    const defaultSku = shipped?.userPlans?.find((p) => p.name.toLowerCase() === plan.name.toLowerCase())?.sku ?? null;
    return {
      kind: 'user_plan',
      serviceId: service.id,
      planId: plan.id,
      current: plan.sku,
      defaultSku,
      write: (sku) => updatePlanSku(tx, 'user_plans', plan.id, sku),
    };
  }
  if (selector.userService) {
    if (!service.has_user_service) throw new DomainError('InvalidService', `Service '${service.code}' has no user services.`);
    return {
      kind: 'service_user',
      serviceId: service.id,
      planId: null,
      current: service.user_sku,
      defaultSku: shipped?.userSku ?? null,
      write: (sku) => updateServiceSku(tx, service.id, 'user_sku', sku),
    };
  }
  return {
    kind: 'service',
    serviceId: service.id,
    planId: null,
    current: service.sku,
    defaultSku: shipped?.sku ?? null,
    write: (sku) => updateServiceSku(tx, service.id, 'sku', sku),
  };
}
