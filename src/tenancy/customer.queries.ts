import { sql } from 'kysely';
import type { Executor, Tx } from '../core/db/database.js';
import { customerInScope, type Caller } from './caller.js';

export interface CustomerRef {
  id?: number;
  name?: string;
  fullname?: string;
  billingid?: string;
}

export interface CustomerFilter extends CustomerRef {
  primarydomain?: string;
  status?: string;
  /** Only direct children of this customer id. */
  parentId?: number;
}

export function scopedCustomers(db: Executor, caller: Caller) {
  return db.selectFrom('customers').where('customers.deleted_at', 'is', null).where(customerInScope(caller));
}

export function selectCustomerByRef(db: Executor, caller: Caller, ref: CustomerRef) {
  let q = scopedCustomers(db, caller).selectAll('customers');
  if (ref.id !== undefined) q = q.where('customers.id', '=', ref.id);
  if (ref.name !== undefined) q = q.where((eb) => eb(eb.fn('lower', ['customers.name']), '=', ref.name!.toLowerCase()));
  if (ref.fullname !== undefined) q = q.where((eb) => eb(eb.fn('lower', ['customers.fullname']), '=', ref.fullname!.toLowerCase()));
  if (ref.billingid !== undefined) q = q.where('customers.billing_id', '=', ref.billingid);
  return q;
}

export function selectCustomers(db: Executor, caller: Caller, filter: CustomerFilter) {
  let q = selectCustomerByRef(db, caller, filter);
  if (filter.primarydomain !== undefined)
    q = q.where((eb) => eb(eb.fn('lower', ['customers.primary_domain']), '=', filter.primarydomain!.toLowerCase()));
  if (filter.status !== undefined) q = q.where('customers.status', '=', filter.status as never);
  if (filter.parentId !== undefined) q = q.where('customers.parent_id', '=', filter.parentId);
  return q.orderBy('customers.id');
}

/**
 * In one statement: the short codes in use that start with `prefix` (for collision suffixes) and,
 * when `sibling` is given, the code of a live customer under that parent with that full name.
 */
export async function namesInUse(
  tx: Tx,
  prefix: string,
  sibling?: { parentId: number; fullname: string },
): Promise<{ codes: string[]; existing: string | null }> {
  const pattern = prefix.toLowerCase().replace(/[\\%_]/g, '\\$&') + '%';
  const row = await tx
    .selectNoFrom((eb) => [
      sql<string[]>`array(select name from customers where deleted_at is null and lower(name) like ${pattern})`.as('codes'),
      (sibling
        ? eb
            .selectFrom('customers')
            .select('name')
            .where('parent_id', '=', sibling.parentId)
            .where((w) => w(w.fn('lower', ['fullname']), '=', sibling.fullname.toLowerCase()))
            .where('deleted_at', 'is', null)
            .orderBy('id')
            .limit(1)
        : sql<string | null>`null::text`
      ).as('existing'),
    ])
    .executeTakeFirstOrThrow();
  return { codes: row.codes, existing: row.existing ?? null };
}
