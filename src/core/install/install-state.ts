import type { Executor } from '../db/database.js';

/** Keys of install_state, one per fact recorded. */
export type InstallFact = 'default_job.daily_billing_run' | 'secret_key.fingerprint' | 'built_in_defaults.fingerprint';

export async function readInstallFact(db: Executor, key: InstallFact): Promise<string | undefined> {
  const row = await db.selectFrom('install_state').select('value').where('key', '=', key).executeTakeFirst();
  return row?.value;
}

/** Records a fact once; true when this call recorded it (false when it was already there). */
export async function recordInstallFactOnce(db: Executor, key: InstallFact, value: string): Promise<boolean> {
  const res = await db
    .insertInto('install_state')
    .values({ key, value })
    .onConflict((oc) => oc.column('key').doNothing())
    .executeTakeFirst();
  return Number(res.numInsertedOrUpdatedRows ?? 0) > 0;
}

export async function writeInstallFact(db: Executor, key: InstallFact, value: string): Promise<void> {
  await db
    .insertInto('install_state')
    .values({ key, value })
    .onConflict((oc) => oc.column('key').doUpdateSet({ value, recorded_at: new Date() }))
    .execute();
}
