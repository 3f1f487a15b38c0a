import { sql } from 'kysely';
import type { Database, Executor } from '../../core/db/database.js';

/**
 * "Credentials of these users changed": a password, enabled flag, roles, deletion, or the customer's
 * enabled flag. Caches of verified sign-ins drop what the change touches. In the changing process
 * listeners hear it at once; every process (this one again, after the commit) through LISTEN/NOTIFY.
 */
export interface CredentialChange {
  userId?: number;
  customerId?: number;
}

export const CREDENTIALS_CHANNEL = 'tenantry_credentials';

type Listener = (change: CredentialChange) => void;
const listeners = new Set<Listener>();

export function onCredentialsChanged(listener: Listener): () => void {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

function dispatch(change: CredentialChange): void {
  for (const l of listeners) l(change);
}

/** Announces a change inside the writing transaction: other processes hear it when it commits. */
export async function credentialsChanged(db: Executor, change: CredentialChange): Promise<void> {
  dispatch(change);
  await sql`select pg_notify(${CREDENTIALS_CHANNEL}, ${JSON.stringify(change)})`.execute(db);
}

/** Relays committed changes from every process to this process's listeners; resolves to a stop function. */
export async function relayCredentialChanges(database: Database): Promise<() => Promise<void>> {
  return database.raw.listen(
    CREDENTIALS_CHANNEL,
    (payload) => {
      const change = parse(payload);
      // An unreadable payload still means "something changed": drop everything rather than keep a stale entry.
      dispatch(change ?? {});
    },
    // Changes made while the connection was down were not heard: treat everything as changed.
    () => dispatch({}),
  );
}

function parse(payload: string): CredentialChange | undefined {
  try {
    const v = JSON.parse(payload) as CredentialChange;
    return typeof v === 'object' && v !== null ? v : undefined;
  } catch {
    return undefined;
  }
}
