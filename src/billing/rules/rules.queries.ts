import { sql, type Insertable, type Selectable, type Updateable } from 'kysely';
import type { Executor } from '../../core/db/database.js';
import type { BillingRulesTable } from '../schema.js';

export type RuleRow = Selectable<BillingRulesTable>;

const columns = [
  'id',
  'processing_order',
  'description',
  'override_reason',
  'customer_id',
  'include_subtree',
  'service_id',
  'plan_code',
  'sku_condition',
  'sku',
  'user_name_pattern',
  'effect',
  'override_sku',
  'override_description',
  'enabled',
  'created_at',
] as const;

function selectRules(db: Executor) {
  return db
    .selectFrom('billing_rules')
    .select(columns)
    .select([
      sql<string | null>`to_char(valid_from, 'YYYY-MM-DD')`.as('valid_from'),
      sql<string | null>`to_char(valid_to, 'YYYY-MM-DD')`.as('valid_to'),
    ]);
}

/** Rules in the order they decide: latest processing order first. */
export async function selectAllRules(db: Executor): Promise<RuleRow[]> {
  return selectRules(db).orderBy('processing_order', 'desc').orderBy('id', 'desc').execute();
}

export async function selectRule(db: Executor, id: number): Promise<RuleRow | undefined> {
  return selectRules(db).where('id', '=', id).executeTakeFirst();
}

export async function insertRule(db: Executor, values: Insertable<BillingRulesTable>): Promise<number> {
  return (await db.insertInto('billing_rules').values(values).returning('id').executeTakeFirstOrThrow()).id;
}

export async function deleteRuleRow(db: Executor, id: number): Promise<boolean> {
  return Number((await db.deleteFrom('billing_rules').where('id', '=', id).executeTakeFirst()).numDeletedRows) > 0;
}

export async function maxProcessingOrder(db: Executor): Promise<number> {
  const r = await db
    .selectFrom('billing_rules')
    .select((eb) => eb.fn.max('processing_order').as('n'))
    .executeTakeFirst();
  return Number(r?.n ?? 0);
}

export async function updateRuleRow(db: Executor, id: number, values: Updateable<BillingRulesTable>): Promise<void> {
  await db.updateTable('billing_rules').set(values).where('id', '=', id).execute();
}
