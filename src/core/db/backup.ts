import fs from 'node:fs';
import path from 'node:path';
import { openDatabase, DatabaseOpenError } from './database.js';

/**
 * Writes the embedded database to a gzip tarball. It takes the data directory's lock, so it
 * refuses while a server runs on it: a copy of a live PGlite directory could be torn.
 */
export async function backupEmbedded(dataDir: string, file: string): Promise<number> {
  const database = await openDatabase({ dataDir });
  try {
    const blob = await database.dump!('gzip');
    const bytes = Buffer.from(await blob.arrayBuffer());
    fs.writeFileSync(file, bytes, { mode: 0o600 });
    return bytes.length;
  } finally {
    await database.close();
  }
}

/** Creates a data directory from a backup; refuses to overwrite an existing database. */
export async function restoreEmbedded(dataDir: string, file: string): Promise<void> {
  if (fs.existsSync(path.join(dataDir, 'pglite'))) {
    throw new DatabaseOpenError(`${dataDir} already holds a database; restore into an empty TENANTRY_DATA_DIR`);
  }
  if (!fs.existsSync(file)) throw new DatabaseOpenError(`backup file ${file} not found`);
  const database = await openDatabase({ dataDir, loadDataDir: new Blob([fs.readFileSync(file)]) });
  await database.close();
}
