import { sql, type Kysely, type Migration } from 'kysely';

/** Failed sign-ins per throttle key: "user:<login>|<address>" or "address:<address>". */
export interface SignInThrottleTable {
  key: string;
  failures: number;
  last_failure_at: Date;
  blocked_until: Date | null;
  /** Whether the latest attempt was let through (false: refused while waiting). */
  counted: boolean;
}

/** Addresses a user signed in from successfully: failures of others there do not hold the user back. */
export interface SignInAddressesTable {
  user_id: number;
  address: string;
  last_success_at: Date;
}

export interface SignInTables {
  sign_in_throttle: SignInThrottleTable;
  sign_in_addresses: SignInAddressesTable;
}

/** Replaces the per-account lockout (anyone could lock anyone out) with per user+address backoff. */
export const signInThrottleMigration: Migration = {
  async up(db: Kysely<any>) {
    await sql`
      create table sign_in_throttle (
        key text primary key,
        failures integer not null,
        last_failure_at timestamptz not null,
        blocked_until timestamptz,
        counted boolean not null default true
      );
      create index sign_in_throttle_last_failure on sign_in_throttle (last_failure_at);
      create table sign_in_addresses (
        user_id integer not null references users(id) on delete cascade,
        address text not null,
        last_success_at timestamptz not null,
        primary key (user_id, address)
      );
    `.execute(db);
  },
};
