import { sql, type RawBuilder } from 'kysely';

/*
 * Billing rules keep Atria's Processing Order: when several rules match an item, the rule latest
 * in processing order decides ("the last rule to run wins"), i.e. the first match over the rules
 * sorted by descending processing order (ties: the newer rule). A rule applies to a period when
 * its valid-from/valid-to range overlaps the period.
 */

/** The rules in force for a period, with the rule customer's path and the user pattern as LIKE. */
export function rulesInForce(startDate: string, endDate: string): RawBuilder<unknown> {
  return sql`
    select r.id, r.processing_order, r.effect, r.override_reason, r.override_sku, r.override_description,
           r.customer_id, r.include_subtree, rc.path as customer_path, r.service_id, lower(r.plan_code) as plan_code,
           r.sku_condition, lower(r.sku) as sku,
           -- glob → LIKE: escape LIKE's own wildcards first, then * → % and ? → _
           replace(replace(replace(replace(replace(lower(r.user_name_pattern), '\\', '\\\\'), '%', '\\%'), '_', '\\_'), '*', '%'), '?', '_') as user_like
    from billing_rules r left join customers rc on rc.id = r.customer_id
    where r.enabled
      and (r.valid_from is null or r.valid_from <= ${endDate}::date)
      and (r.valid_to is null or r.valid_to >= ${startDate}::date)`;
}

/**
 * The deciding rule for one item, as a lateral subquery over `rules` (rulesInForce). The item
 * alias `i` must expose customer_id, service_id, plan_code, sku; `c` is its customer and `u` its user.
 */
export const winningRule = sql`
  left join lateral (
    select ru.id, ru.effect, ru.override_reason, ru.override_sku, ru.override_description
    from rules ru
    where (ru.customer_id is null or (case when ru.include_subtree then c.path like ru.customer_path || '%' else ru.customer_id = i.customer_id end))
      and (ru.service_id is null or ru.service_id = i.service_id)
      and (ru.plan_code is null or ru.plan_code = lower(i.plan_code))
      and (ru.sku_condition = 'any' or (ru.sku_condition = 'absent') = (coalesce(i.sku, '') = ''))
      and (ru.sku is null or ru.sku = lower(i.sku))
      and (ru.user_like is null or lower(u.name) like ru.user_like)
    order by ru.processing_order desc, ru.id desc
    limit 1
  ) r on true`;
