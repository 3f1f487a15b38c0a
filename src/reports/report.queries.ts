import { sql } from 'kysely';
import type { Executor } from '../core/db/database.js';

export function selectReports(db: Executor, name?: string) {
  let q = db.selectFrom('reports').selectAll();
  if (name !== undefined) q = q.where((eb) => eb(eb.fn('lower', ['name']), '=', name.toLowerCase()));
  return q.orderBy('name');
}

/** Every relation name in the database (any schema), which a report query may not name. */
export async function relationNames(db: Executor): Promise<Set<string>> {
  const { rows } = await sql<{ relname: string }>`select distinct lower(relname) as relname from pg_class`.execute(db);
  return new Set(rows.map((r) => r.relname));
}

/**
 * The scoped relations a report reads, as CTEs over $1 (the caller's customer-path pattern).
 * Columns are listed, never `*`: secrets such as password hashes stay out of every report.
 */
export const SCOPE_CTES = `
  scoped_customers as (
    select c.id, c.parent_id, c.depth, c.name, c.fullname, c.contact_name, c.contact_email, c.primary_domain, c.billing_id,
      c.account_code, c.location_id, l.name as location, c.status, c.enabled, c.is_reseller, c.bill_to_parent,
      c.created_at, c.modified_at
    from customers c left join locations l on l.id = c.location_id
    where c.deleted_at is null and c.path like $1
  ),
  scoped_users as (
    select u.id, u.customer_id, u.name, u.upn, u.first_name, u.last_name, u.display_name, u.external_email, u.department,
      u.location, u.enabled, u.status, u.created_at, u.modified_at
    from users u where u.deleted_at is null and u.customer_id in (select id from scoped_customers)
  ),
  scoped_customer_services as (
    select cs.id, cs.customer_id, cs.service_id, s.code as service_code, s.fullname as service_name, p.name as plan_name,
      cs.enabled, cs.user_limit, cs.is_billed, cs.approval_pending, cs.status, cs.created_at, cs.modified_at
    from customer_services cs join services s on s.id = cs.service_id left join customer_plans p on p.id = cs.customer_plan_id
    where cs.customer_id in (select id from scoped_customers)
  ),
  scoped_user_services as (
    select us.id, us.user_id, u.customer_id, cs.service_id, s.code as service_code, s.fullname as service_name,
      up.name as user_plan_name, us.enabled, us.status, us.created_at, us.modified_at
    from user_services us join scoped_users u on u.id = us.user_id join customer_services cs on cs.id = us.customer_service_id
      join services s on s.id = cs.service_id left join user_plans up on up.id = us.user_plan_id
  ),
  report_services as (select id, code, fullname, description, multi_instance, has_user_service, enabled from services)`;
