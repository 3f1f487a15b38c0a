import type { Executor } from '../core/db/database.js';

export type SkuTarget = 'service' | 'service_user' | 'customer_plan' | 'user_plan';

/** The last change of each catalog SKU that was changed (for "changed by … on …"). */
export async function selectLastSkuChanges(db: Executor) {
  return db
    .selectFrom('catalog_sku_changes')
    .select(['service_id', 'target', 'plan_id', 'old_sku', 'new_sku', 'changed_at', 'actor_name'])
    .distinctOn(['service_id', 'target', 'plan_id'])
    .orderBy('service_id')
    .orderBy('target')
    .orderBy('plan_id')
    .orderBy('changed_at', 'desc')
    .orderBy('id', 'desc')
    .execute();
}

export async function insertSkuChange(
  db: Executor,
  row: {
    service_id: number;
    target: SkuTarget;
    plan_id: number | null;
    old_sku: string | null;
    new_sku: string | null;
    actor_user_id: number | null;
    actor_name: string;
  },
): Promise<void> {
  await db.insertInto('catalog_sku_changes').values(row).execute();
}

export async function updateServiceSku(db: Executor, serviceId: number, column: 'sku' | 'user_sku', sku: string | null): Promise<void> {
  await db
    .updateTable('services')
    .set({ [column]: sku })
    .where('id', '=', serviceId)
    .execute();
}

export async function updatePlanSku(
  db: Executor,
  table: 'customer_plans' | 'user_plans',
  planId: number,
  sku: string | null,
): Promise<void> {
  await db.updateTable(table).set({ sku }).where('id', '=', planId).execute();
}
