import fs from 'node:fs';
import path from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import { openDatabase, ownerOnlyFiles, DatabaseOpenError, type Database } from './database.js';

/** A progress line of a long step, numbered like "2/3" so a reader knows how far along it is. */
export type BackupProgress = (line: string) => void;

const megabytes = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(1)} MB`;

/**
 * Writes the embedded database to a gzip tarball. PGlite dumps from inside the process that holds
 * it open (the server, or the CLI holding the data directory's lock), so the copy is consistent.
 */
export async function backupEmbedded(database: Database, file: string, onProgress?: BackupProgress): Promise<number> {
  onProgress?.('backup 1/2: dumping the database (the long step: minutes for a large one)…');
  const blob = await database.dump!('gzip');
  const bytes = gzipSync(ownerOnlyEntries(gunzipSync(Buffer.from(await blob.arrayBuffer()))));
  onProgress?.(`backup 2/2: writing ${megabytes(bytes.length)} to ${file}…`);
  fs.writeFileSync(file, bytes, { mode: 0o600 });
  // The mode above applies only to a new file: an existing one is narrowed too.
  fs.chmodSync(file, 0o600);
  return bytes.length;
}

const BLOCK = 512;

/**
 * PGlite archives its files with the modes its file system gave them (0666, directories 0777), so
 * whoever unpacks a backup with tar got world-writable password hashes. Every entry of the (ustar)
 * archive is rewritten to 0600, directories to 0700, with the header checksums recomputed.
 */
export function ownerOnlyEntries(tar: Buffer): Buffer {
  const out = Buffer.from(tar);
  for (let at = 0; at + BLOCK <= out.length;) {
    const header = out.subarray(at, at + BLOCK);
    if (header.every((b) => b === 0)) break;
    const type = String.fromCharCode(header[156]!);
    // Extended headers (pax 'x'/'g', GNU long names 'L'/'K') describe the next entry: their own mode is meaningless.
    if (!'xgLK'.includes(type)) {
      header.write(type === '5' ? '0000700\0' : '0000600\0', 100, 8, 'ascii');
      header.fill(0x20, 148, 156);
      const sum = header.reduce((a, b) => a + b, 0);
      header.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 8, 'ascii');
    }
    const size = parseInt(header.toString('ascii', 124, 136).replace(/\0.*$/s, '').trim() || '0', 8);
    at += BLOCK + Math.ceil(size / BLOCK) * BLOCK;
  }
  return out;
}

/** Creates a data directory from a backup; refuses to overwrite an existing database. */
export async function restoreEmbedded(dataDir: string, file: string, onProgress?: BackupProgress): Promise<void> {
  if (fs.existsSync(path.join(dataDir, 'pglite'))) {
    throw new DatabaseOpenError(`${dataDir} already holds a database; restore into an empty TENANTRY_DATA_DIR`);
  }
  if (!fs.existsSync(file)) throw new DatabaseOpenError(`backup file ${file} not found`);
  onProgress?.(`restore 1/3: reading ${file}…`);
  const archive = fs.readFileSync(file);
  onProgress?.(`restore 2/3: loading ${megabytes(archive.length)} into ${dataDir} (the long step: minutes for a large one)…`);
  const database = await openDatabase({ dataDir, loadDataDir: new Blob([archive]) });
  onProgress?.('restore 3/3: closing the database and making its files owner-only…');
  await database.close();
  // Backups made before their entries were owner-only carry PGlite's 0666: the restored files are owner-only anyway.
  ownerOnlyFiles(dataDir);
}
