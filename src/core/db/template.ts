import fs from 'node:fs';
import { fileURLToPath } from 'node:url';
import { inTransaction, openDatabase, TEMPLATE_URL } from './database.js';
import { ensureBuiltInDefaults } from '../../tenancy/bootstrap.js';
import { migrateToLatest } from './migrate.js';

/**
 * Writes the template a new embedded data directory starts from (run by `npm run build`, and by the
 * test setup for the sources): migrated, with the built-in roles and catalog. Written aside and
 * renamed, so a process opening a new data directory meanwhile never reads half a file.
 */
export async function writeEmbeddedTemplate(): Promise<void> {
  const database = await openDatabase({ memory: true });
  try {
    await migrateToLatest(database.db);
    await inTransaction(database.db, ensureBuiltInDefaults);
    const dump = await database.dump!('none');
    const file = fileURLToPath(TEMPLATE_URL);
    const partial = `${file}.${process.pid}.partial`;
    fs.writeFileSync(partial, Buffer.from(await dump.arrayBuffer()));
    fs.renameSync(partial, file);
  } finally {
    await database.close();
  }
}
