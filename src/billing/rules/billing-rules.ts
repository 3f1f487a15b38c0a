import type { Insertable } from 'kysely';
import type { Executor, Tx } from '../../core/db/database.js';
import { DomainError, must, validation } from '../../core/errors.js';
import { requirePermission, type Caller } from '../../tenancy/caller.js';
import { getCustomer } from '../../tenancy/customer.service.js';
import { getService } from '../../catalog/catalog.service.js';
import { parseDateRef } from '../periods/bill-periods.js';
import { RULE_EFFECTS, SKU_CONDITIONS, type BillingRulesTable, type RuleEffect, type SkuCondition } from '../schema.js';
import { deleteRuleRow, insertRule, maxProcessingOrder, selectAllRules, selectRule, updateRuleRow, type RuleRow } from './rules.queries.js';

export interface BillingRule {
  id: number;
  processingOrder: number;
  description: string;
  overrideReason: string;
  validFrom: string | null;
  validTo: string | null;
  customerId: number | null;
  includeSubtree: boolean;
  serviceId: number | null;
  planCode: string | null;
  skuCondition: SkuCondition;
  sku: string | null;
  userNamePattern: string | null;
  effect: RuleEffect;
  overrideSku: string | null;
  overrideDescription: string | null;
  enabled: boolean;
}

export interface NewBillingRule {
  description: string;
  /** Stamped on every item the rule decides (Atria "Override Reason"); required. */
  overrideReason: string;
  /** Default: after every existing rule, so the new rule wins over them. */
  processingOrder?: number;
  validFrom?: string;
  validTo?: string;
  /** Customer by short code or id; its whole subtree unless includeSubtree is false. */
  customer?: { id?: number; name?: string };
  includeSubtree?: boolean;
  /** Service by code (Appendix B name, e.g. HE) or id. */
  service?: { id?: number; name?: string };
  planCode?: string;
  skuCondition?: SkuCondition;
  sku?: string;
  userNamePattern?: string;
  effect: RuleEffect;
  overrideSku?: string;
  overrideDescription?: string;
}

function toRule(r: RuleRow): BillingRule {
  return {
    id: r.id,
    processingOrder: r.processing_order,
    description: r.description,
    overrideReason: r.override_reason,
    validFrom: r.valid_from,
    validTo: r.valid_to,
    customerId: r.customer_id,
    includeSubtree: r.include_subtree,
    serviceId: r.service_id,
    planCode: r.plan_code,
    skuCondition: r.sku_condition,
    sku: r.sku,
    userNamePattern: r.user_name_pattern,
    effect: r.effect,
    overrideSku: r.override_sku,
    overrideDescription: r.override_description,
    enabled: r.enabled,
  };
}

/** Rules in deciding order (the first that matches an item decides it). */
export async function listRules(db: Executor): Promise<BillingRule[]> {
  return (await selectAllRules(db)).map(toRule);
}

/** Adds a rule. Billing rules are the provider's (Atria: only service providers see them). */
export async function addRule(tx: Tx, caller: Caller, input: NewBillingRule): Promise<BillingRule> {
  requirePermission(caller, 'Manage Billing');
  const values = await ruleValues(tx, caller, input);
  const id = await insertRule(tx, { ...values, processing_order: input.processingOrder ?? (await maxProcessingOrder(tx)) + 1 });
  return getRule(tx, id);
}

/**
 * Replaces a rule's conditions and effect (the whole rule, as the editor submits it); its place
 * in the processing order stays unless `processingOrder` is given. Applies from the next billing run.
 */
export async function updateRule(tx: Tx, caller: Caller, id: number, input: NewBillingRule & { enabled?: boolean }): Promise<BillingRule> {
  requirePermission(caller, 'Manage Billing');
  const current = await getRule(tx, id);
  const values = await ruleValues(tx, caller, input);
  await updateRuleRow(tx, id, {
    ...values,
    processing_order: input.processingOrder ?? current.processingOrder,
    enabled: input.enabled ?? current.enabled,
  });
  return getRule(tx, id);
}

/**
 * Puts the rules in a new deciding order: `ids` lists every rule once, the one that decides
 * first (wins over all the others) first. Processing orders become n … 1.
 */
export async function reorderRules(tx: Tx, caller: Caller, ids: readonly number[]): Promise<BillingRule[]> {
  requirePermission(caller, 'Manage Billing');
  const rules = await listRules(tx);
  const known = new Set(rules.map((r) => r.id));
  const given = new Set(ids);
  if (given.size !== ids.length) throw validation('Each rule may appear only once in the new order.', { field: 'ids' });
  const unknown = ids.filter((id) => !known.has(id));
  if (unknown.length) throw new DomainError('NotFound', `Billing rule ${unknown.join(', ')} not found.`, { field: 'ids' });
  const missing = rules.filter((r) => !given.has(r.id)).map((r) => r.id);
  if (missing.length) throw validation(`The new order must list every rule; missing: ${missing.join(', ')}.`, { field: 'ids' });
  for (const [i, id] of ids.entries()) await updateRuleRow(tx, id, { processing_order: ids.length - i });
  return listRules(tx);
}

export async function getRule(db: Executor, id: number): Promise<BillingRule> {
  return toRule(must(await selectRule(db, id), () => new DomainError('NotFound', `Billing rule ${id} not found.`)));
}

/** The checked column values of a rule as submitted (everything but its processing order). */
async function ruleValues(tx: Tx, caller: Caller, input: NewBillingRule): Promise<Omit<Insertable<BillingRulesTable>, 'processing_order'>> {
  if (!input.description?.trim()) throw validation('a billing rule needs a description', { field: 'description' });
  if (!input.overrideReason?.trim())
    throw validation('a billing rule needs an override reason (it is stamped on every item the rule decides)', { field: 'overrideReason' });
  if (!RULE_EFFECTS.includes(input.effect)) throw validation(`the effect must be one of ${RULE_EFFECTS.join(', ')}`, { field: 'effect' });
  const skuCondition = input.skuCondition ?? 'any';
  if (!SKU_CONDITIONS.includes(skuCondition))
    throw validation(`the SKU condition must be one of ${SKU_CONDITIONS.join(', ')}`, { field: 'skuCondition' });
  if (input.effect === 'override_sku' && !input.overrideSku?.trim())
    throw validation('an override_sku rule needs the SKU to set', { field: 'overrideSku' });
  if (input.effect === 'override_description' && !input.overrideDescription?.trim())
    throw validation('an override_description rule needs the description to set', { field: 'overrideDescription' });
  const validFrom = input.validFrom ? parseDateRef(input.validFrom) : null;
  const validTo = input.validTo ? parseDateRef(input.validTo) : null;
  if (validFrom && validTo && validTo < validFrom) throw validation('valid-to is before valid-from', { field: 'validTo' });
  if (input.userNamePattern !== undefined && !input.userNamePattern.trim())
    throw validation('the user name pattern is empty', { field: 'userNamePattern' });
  const customer = input.customer ? await getCustomer(tx, caller, input.customer) : undefined;
  const service = input.service ? await getService(tx, input.service) : undefined;
  return {
    description: input.description.trim(),
    override_reason: input.overrideReason.trim(),
    valid_from: validFrom,
    valid_to: validTo,
    customer_id: customer?.id ?? null,
    include_subtree: input.includeSubtree ?? true,
    service_id: service?.id ?? null,
    plan_code: input.planCode?.trim() || null,
    sku_condition: skuCondition,
    sku: input.sku?.trim() || null,
    user_name_pattern: input.userNamePattern?.trim() ?? null,
    effect: input.effect,
    override_sku: input.effect === 'override_sku' ? input.overrideSku!.trim() : null,
    override_description: input.effect === 'override_description' ? input.overrideDescription!.trim() : null,
  };
}

/**
 * seed 003: "it may be adequate for you to just exclude all items which do not have a SKU
 * assigned" — one call. Idempotent: an existing identical rule is returned instead of a second.
 */
export async function addNoSkuRule(tx: Tx, caller: Caller): Promise<BillingRule> {
  requirePermission(caller, 'Manage Billing');
  const existing = (await listRules(tx)).find(
    (r) =>
      r.effect === 'not_billable' &&
      r.skuCondition === 'absent' &&
      r.customerId === null &&
      r.serviceId === null &&
      r.planCode === null &&
      r.sku === null &&
      r.userNamePattern === null &&
      r.validFrom === null &&
      r.validTo === null &&
      r.enabled,
  );
  if (existing) return existing;
  // Processing order 0: any more specific rule (e.g. one that assigns a SKU) decides before it.
  return addRule(tx, caller, {
    description: 'Items without a SKU are not billable',
    overrideReason: 'No SKU',
    skuCondition: 'absent',
    effect: 'not_billable',
    processingOrder: 0,
  });
}

export async function deleteRule(tx: Tx, caller: Caller, id: number): Promise<void> {
  requirePermission(caller, 'Manage Billing');
  if (!(await deleteRuleRow(tx, id))) throw new DomainError('NotFound', `Billing rule ${id} not found.`);
}
