import { sql, type RawBuilder } from 'kysely';
import { ruleEffects, winningRuleId, type RuleInForce } from '../rules/apply-rules.js';
import { SERVICE_CHANGE_ACTIONS } from '../ledger/schema.js';

export interface PeriodBounds {
  id: number;
  startDate: string;
  endDate: string;
  startsAt: Date;
  endsAt: Date;
  timeZone: string;
}

/** Columns of bill_items a run writes; an item whose values all match its stored row is left untouched. */
export const ITEM_COLUMNS = [
  'service_change_id',
  'item_kind',
  'customer_id',
  'bill_customer_id',
  'user_id',
  'service_id',
  'customer_service_id',
  'user_service_id',
  'instance_id',
  'instance_name',
  'plan_code',
  'plan_name',
  'sku',
  'sku_type',
  'line_description',
  'summary_grouping',
  'started_at',
  'ended_at',
  'percent_duration',
  'quantity',
  'action',
  'added_by_user_id',
  'added_by_user_name',
  'removed_by_user_id',
  'removed_by_user_name',
  'actioned_at',
  'actioned_by',
  'is_billable',
  'override_reason',
  'bill_config_rule_id',
] as const;

// The thing a ledger row concerns: 1 customer, 2 customer service, 3 user, 4 user service, 5 instance.
// One equality CASE over the known actions: the prefix LIKEs it replaces cost a pattern match per row and branch.
const kindOf = (action: string): number =>
  action.startsWith('customer_service_')
    ? 2
    : action.startsWith('customer_')
      ? 1
      : action.startsWith('user_service_')
        ? 4
        : action.startsWith('user_')
          ? 3
          : 5;
const KIND = sql.raw(`(case sc.action ${SERVICE_CHANGE_ACTIONS.map((a) => `when '${a}' then ${kindOf(a)}`).join(' ')} end)`);

const OPENING = `'customer_created', 'customer_reprovisioned', 'customer_service_added', 'customer_service_plan_changed',
  'user_created', 'user_enabled', 'user_service_added', 'user_service_plan_changed', 'instance_added'`;

// Changes that bring a thing into being: when their provisioning request fails, the item stays
// visible but not billable ("Provisioning failed"); any other change whose request failed is ignored.
const PROVISIONING = `'customer_created', 'customer_reprovisioned', 'customer_service_added', 'user_created', 'user_enabled',
  'user_service_added', 'instance_added'`;

// Changes that also end other things (see `kills` below).
const CLOSING = `'customer_deleted', 'customer_deprovisioned', 'user_deleted', 'customer_service_removed'`;

/**
 * The items of one period, computed from the ledger alone (plus names for descriptions and the
 * rules in force). A row of `fresh` per interval of one thing overlapping the period:
 *
 * 1. `ev`: ledger rows before the period's end, each mapped to the thing it concerns
 *    (kind 1 customer, 2 customer service, 3 user, 4 user service, 5 instance) and marked
 *    as opening an interval (added, created, plan changed, enabled) or not.
 * 2. `kills`: a change that ends other things too — a customer deleted or de-provisioned ends
 *    everything it has, a user deleted ends its services, a customer service removed ends its
 *    instances and user services — becomes a closing row in each affected thing's stream.
 * 3. Per thing, an interval runs from an opening row to the next row of any kind (lead()).
 * 4. Intervals overlapping the period become items: percentDuration counts calendar days in the
 *    provider's zone, from the start day up to but not including the end day (a plan change on
 *    the 15th bills the old plan 14 days and the new one the rest: never a day twice).
 *
 * `materialized`: whether `fresh` is written out once for several readers (false: a single reader streams it).
 */
export function freshItems(p: PeriodBounds, rules: readonly RuleInForce[], materialized = true): RawBuilder<unknown> {
  const days = sql`(${p.endDate}::date - ${p.startDate}::date + 1)`;
  return sql`
    bill_to (id, bill_id) as (
      select id, id from customers where parent_id is null
      union all
      select c.id, case when c.bill_to_parent then b.bill_id else c.id end from customers c join bill_to b on c.parent_id = b.id
    ),
    -- Ledger rows whose provisioning request ended Failed (docs/decisions.md "Failed provisioning").
    -- A change and its request are written in one transaction, so they share now(): the request of
    -- a row is the one for the same entity created at the row's instant. Driven from the few failed
    -- requests through the ledger's time index.
    failed_changes as materialized (
      select sc.id
      from provisioning_requests r
      join service_changes sc on sc.occurred_at = r.created_at
      where r.status = 'Failed' and sc.occurred_at < ${p.endsAt}
        and r.entity = case ${KIND} when 1 then 'customer' when 2 then 'customer_service' when 3 then 'user'
                                    when 4 then 'user_service' else 'service_instance' end
        and r.entity_id = case ${KIND} when 1 then sc.customer_id when 2 then sc.customer_service_id when 3 then sc.user_id
                                       when 4 then sc.user_service_id else sc.instance_id end
    ),
    -- Not materialised: both readers below scan the ledger table itself, which is cheaper than
    -- writing a month of ledger rows to a tuplestore (it spills) and reading it back.
    ev as not materialized (
      select * from (
        select sc.id, sc.occurred_at, sc.action, sc.actor_user_id, sc.actor_name, sc.customer_id, sc.user_id, sc.service_id,
               sc.customer_service_id, sc.user_service_id, sc.instance_id, sc.instance_name, sc.plan_code, sc.plan_name, sc.sku, sc.quantity,
               ${KIND} as kind,
               case ${KIND} when 1 then sc.customer_id when 2 then sc.customer_service_id when 3 then sc.user_id
                            when 4 then sc.user_service_id else sc.instance_id end as entity_id,
               sc.action in (${sql.raw(OPENING)}) as opens,
               sc.id in (select id from failed_changes) as failed
        from service_changes sc
        where sc.occurred_at < ${p.endsAt}
      ) e
      -- A failed plan change, removal or de-provision changed nothing: the thing goes on as it was.
      where not (e.failed and e.action not in (${sql.raw(PROVISIONING)}))
    ),
    -- The few changes that end other things; every ledger row names the customer its thing belongs to.
    closers as materialized (
      select id, occurred_at, action, actor_user_id, actor_name, customer_id, user_id, customer_service_id
      from service_changes
      where occurred_at < ${p.endsAt} and action in (${sql.raw(CLOSING)}) and id not in (select id from failed_changes)
    ),
    -- One pass over the openings, joined to the few closers of the same customer (instead of a self-join of the ledger per kind of closer).
    kills as (
      select e.kind, e.entity_id, k.id, k.occurred_at, k.actor_user_id, k.actor_name
      from ev e join closers k on k.customer_id = e.customer_id
      where e.opens and e.kind > 1 and (k.occurred_at, k.id) > (e.occurred_at, e.id)
        and case k.action
              when 'user_deleted' then e.kind = 4 and k.user_id = e.user_id
              when 'customer_service_removed' then e.kind in (4, 5) and k.customer_service_id = e.customer_service_id
              else true -- customer deleted or de-provisioned
            end
    ),
    stream as (
      select kind, entity_id, id, occurred_at, opens, actor_user_id, actor_name, action, customer_id, user_id, service_id,
             customer_service_id, user_service_id, instance_id, instance_name, plan_code, plan_name, sku, quantity, failed
      from ev where kind is not null
      union all
      select kind, entity_id, id, occurred_at, false, actor_user_id, actor_name, null, null, null, null, null, null, null, null, null, null, null, null, false
      from kills
    ),
    seg as (
      select s.*, lead(occurred_at) over w as end_at, lead(actor_user_id) over w as end_by_id, lead(actor_name) over w as end_by
      from stream s
      window w as (partition by kind, entity_id order by occurred_at, id)
    ),
    rules as (${ruleEffects(rules)}),
    fresh as ${materialized ? sql`materialized` : sql`not materialized`} (
      select i.id as service_change_id, i.kind::smallint as item_kind, i.customer_id, bt.bill_id as bill_customer_id,
             i.user_id, i.service_id, i.customer_service_id, i.user_service_id, i.instance_id, i.instance_name,
             i.plan_code, i.plan_name,
             case when r.effect = 'override_sku' then r.override_sku else i.sku end as sku,
             case when i.kind in (3, 4) then 'User' else 'Customer' end as sku_type,
             case i.kind
               when 1 then c.fullname
               when 2 then s.fullname || coalesce(', ' || i.plan_name, '') || ' (Assigned to Customer)'
               when 3 then ${userFullName}
               when 4 then s.fullname || coalesce(', ' || i.plan_name, '') || ' - ' || ${userFullName}
               else s.fullname || ', ' || coalesce(i.instance_name, '')
             end as line_description,
             case when r.effect = 'override_description' then r.override_description else (case i.kind
               when 1 then 'Tenants'
               when 2 then s.fullname || ' (Assigned to Customer)'
               when 3 then 'Users'
               when 4 then s.fullname || coalesce(', ' || i.plan_name, '')
               else s.fullname || ', ' || coalesce(i.instance_name, '')
             end) end as summary_grouping,
             i.occurred_at as started_at, i.end_at as ended_at,
             round(((case when i.end_at is null then ${p.endDate}::date + 1 else (i.end_at at time zone ${p.timeZone})::date end)
                    - greatest((i.occurred_at at time zone ${p.timeZone})::date, ${p.startDate}::date)) * 100.0 / ${days}, 2)::numeric(7, 2) as percent_duration,
             i.quantity,
             case when i.end_at is not null then 'Removed' when i.occurred_at >= ${p.startsAt} then 'Added' else 'Carried' end as action,
             i.actor_user_id as added_by_user_id, i.actor_name as added_by_user_name,
             i.end_by_id as removed_by_user_id, i.end_by as removed_by_user_name,
             coalesce(i.end_at, i.occurred_at) as actioned_at,
             case when i.end_at is not null then i.end_by else i.actor_name end as actioned_by,
             not i.failed and coalesce(r.effect <> 'not_billable', true) as is_billable,
             case when i.failed then 'Provisioning failed' else r.override_reason end as override_reason,
             case when i.failed then null else r.id end as bill_config_rule_id
      from (
        -- The catalog's SKU as it is now labels the item (docs/decisions.md "Catalog SKUs"); the
        -- ledger's own copy (the SKU of the day) counts only where the catalog entry is gone.
        select g.kind, g.entity_id, g.id, g.occurred_at, g.opens, g.actor_user_id, g.actor_name, g.action, g.customer_id,
               g.user_id, g.service_id, g.customer_service_id, g.user_service_id, g.instance_id, g.instance_name,
               g.plan_code, g.plan_name, g.quantity, g.end_at, g.end_by_id, g.end_by, g.failed,
               case
                 when cs.id is null then g.sku
                 when g.kind = 2 then (case when g.plan_code is not null and cp.id is null then g.sku else coalesce(cp.sku, cs.sku) end)
                 when g.kind = 4 then (case when g.plan_code is not null and up.id is null then g.sku else coalesce(up.sku, cs.user_sku) end)
                 when g.kind = 5 then cs.sku
                 else g.sku
               end as sku
        from seg g
        left join services cs on cs.id = g.service_id
        left join customer_plans cp on g.kind = 2 and cp.service_id = g.service_id and lower(cp.name) = lower(g.plan_code)
        left join user_plans up on g.kind = 4 and up.service_id = g.service_id and lower(up.name) = lower(g.plan_code)
        where g.opens and (g.end_at is null or g.end_at > ${p.startsAt})
      ) i
      join customers c on c.id = i.customer_id
      join bill_to bt on bt.id = i.customer_id
      left join users u on u.id = i.user_id
      left join services s on s.id = i.service_id
      -- The winner's id is one CASE per item; its effect is joined from the handful of rules by that id.
      left join rules r on r.id = ${winningRuleId(rules)}
    )`;
}

const userFullName = sql`coalesce(nullif(u.display_name, ''), nullif(trim(concat_ws(' ', u.first_name, u.last_name)), ''), u.name, '')`;

/**
 * Rewrites the period's items in one statement: rows that no longer match are deleted, new or
 * changed rows inserted, identical rows (same values, same id) stay — so a re-run over an
 * unchanged ledger writes nothing and every billItemID is stable.
 */
export function rebuildPeriod(
  p: PeriodBounds,
  rules: readonly RuleInForce[],
): RawBuilder<{ items: number; added: number; removed: number }> {
  const cols = sql.raw(ITEM_COLUMNS.join(', '));
  const same = sql.raw(
    `row(${ITEM_COLUMNS.map((c) => `f.${c}`).join(', ')}) is not distinct from row(${ITEM_COLUMNS.map((c) => `b.${c}`).join(', ')})`,
  );
  return sql<{ items: number; added: number; removed: number }>`
    with recursive ${freshItems(p, rules)},
    -- Read in full before the insert below starts: probing bill_items itself while inserting into it
    -- would scan every row inserted so far on each probe.
    existing as materialized (select ${cols} from bill_items where bill_period_id = ${p.id}),
    gone as (
      delete from bill_items b
      where b.bill_period_id = ${p.id}
        and not exists (select 1 from fresh f where f.service_change_id = b.service_change_id and ${same})
      returning 1
    ),
    added as (
      insert into bill_items (bill_period_id, ${cols})
      select ${p.id}, ${cols} from fresh f
      where not exists (select 1 from existing b where b.service_change_id = f.service_change_id and ${same})
      returning 1
    )
    select (select count(*) from fresh)::int as items, (select count(*) from added)::int as added, (select count(*) from gone)::int as removed`;
}

/**
 * The items of a period that has none stored yet (its first run, or after a configuration change):
 * a plain insert, with nothing to compare, so the computed items stream straight into the table
 * instead of through a materialised copy read three times.
 */
export function fillEmptyPeriod(
  p: PeriodBounds,
  rules: readonly RuleInForce[],
): RawBuilder<{ items: number; added: number; removed: number }> {
  const cols = sql.raw(ITEM_COLUMNS.join(', '));
  return sql<{ items: number; added: number; removed: number }>`
    with recursive ${freshItems(p, rules, false)},
    added as (insert into bill_items (bill_period_id, ${cols}) select ${p.id}, ${cols} from fresh returning 1)
    select count(*)::int as items, count(*)::int as added, 0 as removed from added`;
}

/** The same items computed without writing (benchmark and tests compare against it). */
export function selectFreshItems(p: PeriodBounds, rules: readonly RuleInForce[]): RawBuilder<Record<string, unknown>> {
  return sql`with recursive ${freshItems(p, rules)} select * from fresh order by service_change_id`;
}
