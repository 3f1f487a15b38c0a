import { sql, type RawBuilder } from 'kysely';
import type { Executor } from '../../core/db/database.js';
import type { RuleEffect, SkuCondition } from '../schema.js';

/*
 * Billing rules keep Atria's Processing Order: when several rules match an item, the rule latest
 * in processing order decides ("the last rule to run wins"), i.e. the first match over the rules
 * sorted by descending processing order (ties: the newer rule). A rule applies to a period when
 * its valid-from/valid-to range overlaps the period.
 */

/** A rule in force for a period, its match values already normalised by PostgreSQL (lower(), glob → LIKE). */
export interface RuleInForce {
  id: number;
  effect: RuleEffect;
  override_reason: string;
  override_sku: string | null;
  override_description: string | null;
  customer_id: number | null;
  include_subtree: boolean;
  customer_path: string | null;
  service_id: number | null;
  plan_code: string | null;
  sku_condition: SkuCondition;
  sku: string | null;
  user_like: string | null;
}

/** The rules in force for a period, in deciding order (the first that matches an item decides it). */
export async function selectRulesInForce(db: Executor, startDate: string, endDate: string): Promise<RuleInForce[]> {
  const r = await sql<RuleInForce>`
    select r.id, r.effect, r.override_reason, r.override_sku, r.override_description,
           r.customer_id, r.include_subtree, rc.path as customer_path, r.service_id, lower(r.plan_code) as plan_code,
           r.sku_condition, lower(r.sku) as sku,
           -- glob → LIKE: escape LIKE's own wildcards first, then * → % and ? → _
           replace(replace(replace(replace(replace(lower(r.user_name_pattern), '\\', '\\\\'), '%', '\\%'), '_', '\\_'), '*', '%'), '?', '_') as user_like
    from billing_rules r left join customers rc on rc.id = r.customer_id
    where r.enabled
      and (r.valid_from is null or r.valid_from <= ${endDate}::date)
      and (r.valid_to is null or r.valid_to >= ${startDate}::date)
    order by r.processing_order desc, r.id desc`.execute(db);
  return r.rows;
}

/**
 * The deciding rule's id for one item, as one CASE over the rules in deciding order: evaluated
 * inline per row, where a lateral subquery would run a sort and a limit for every item. The item
 * alias `i` must expose customer_id, service_id, plan_code, sku; `c` is its customer and `u` its user.
 */
export function winningRuleId(rules: readonly RuleInForce[]): RawBuilder<number | null> {
  if (rules.length === 0) return sql<null>`null::int`;
  const branches = rules.map((ru) => {
    const conds: RawBuilder<unknown>[] = [];
    if (ru.customer_id !== null) {
      // A rule customer without a row (cannot happen under the foreign key) matches nothing, as a NULL path would.
      conds.push(
        ru.include_subtree
          ? sql`c.path like ${ru.customer_path === null ? null : ru.customer_path + '%'}`
          : sql`i.customer_id = ${ru.customer_id}`,
      );
    }
    if (ru.service_id !== null) conds.push(sql`i.service_id = ${ru.service_id}`);
    if (ru.plan_code !== null) conds.push(sql`lower(i.plan_code) = ${ru.plan_code}`);
    if (ru.sku_condition !== 'any')
      conds.push(ru.sku_condition === 'absent' ? sql`coalesce(i.sku, '') = ''` : sql`coalesce(i.sku, '') <> ''`);
    if (ru.sku !== null) conds.push(sql`lower(i.sku) = ${ru.sku}`);
    if (ru.user_like !== null) conds.push(sql`lower(u.name) like ${ru.user_like}`);
    return sql`when ${conds.length ? sql.join(conds, sql` and `) : sql`true`} then ${ru.id}::int`;
  });
  return sql<number | null>`(case ${sql.join(branches, sql` `)} end)`;
}

/** The rules as rows (id, effect, override_reason, override_sku, override_description) to join the winner's effect from. */
export function ruleEffects(rules: readonly RuleInForce[]): RawBuilder<unknown> {
  if (rules.length === 0)
    return sql`select null::int as id, null::text as effect, null::text as override_reason, null::text as override_sku, null::text as override_description where false`;
  return sql`select * from (values ${sql.join(
    rules.map(
      (r) => sql`(${r.id}::int, ${r.effect}::text, ${r.override_reason}::text, ${r.override_sku}::text, ${r.override_description}::text)`,
    ),
  )}) v (id, effect, override_reason, override_sku, override_description)`;
}
