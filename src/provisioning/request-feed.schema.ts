import { sql, type Generated, type Kysely, type Migration } from 'kysely';
import type { ProvisioningStatus } from '../core/statuses.js';
import type { RequestAction, RequestEntity } from './schema.js';

/** The channel migrations 0019 and 0024 notified on each status change; 0026 stopped notifying. */
const REQUEST_FEED_CHANNEL = 'tenantry_request_status';

/**
 * A trigger announces each status change of a provisioning request after its commit, whichever
 * code path made it (API, engine, approvals, retry), so the console's live view misses none.
 * The owning customer's path travels with it so listeners can scope without a query.
 */
export const requestFeedMigration: Migration = {
  async up(db: Kysely<any>) {
    await sql
      .raw(
        `
      create function tenantry_request_status_notify() returns trigger language plpgsql as $$
      begin
        if tg_op = 'INSERT' or old.status is distinct from new.status then
          perform pg_notify('${REQUEST_FEED_CHANNEL}', json_build_object(
            'id', new.id, 'rootId', coalesce(new.root_id, new.id), 'parentId', new.parent_id,
            'customerId', new.customer_id, 'path', (select path from customers where id = new.customer_id),
            'entity', new.entity, 'entityId', new.entity_id, 'action', new.action, 'status', new.status,
            'at', to_char(clock_timestamp() at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'))::text);
        end if;
        return null;
      end $$;
      create trigger provisioning_requests_status_notify after insert or update of status on provisioning_requests
        for each row execute function tenantry_request_status_notify();
    `,
      )
      .execute(db);
  },
};

/** How long status changes are kept for a console that reconnects (Last-Event-ID) or a listener that lost its connection. */
export const REQUEST_EVENTS_KEPT = '1 day';

export interface RequestStatusEventsTable {
  id: Generated<number>;
  request_id: number;
  root_id: number;
  parent_id: number | null;
  customer_id: number;
  entity: RequestEntity;
  entity_id: number;
  action: RequestAction;
  status: ProvisioningStatus;
  at: Generated<Date>;
  /** The writing transaction's id (xid8, as text): the feed reads changes by commit, not by event id. */
  xid: Generated<string>;
}

export interface RequestFeedTables {
  request_status_events: RequestStatusEventsTable;
}

/**
 * Each status change is also written to `request_status_events` and announced with its event id:
 * a console that reconnects asks for what came after the last id it saw (Last-Event-ID), and a
 * listener whose connection dropped asks for what it missed. Every thousandth event drops those
 * older than REQUEST_EVENTS_KEPT, so the table stays small without a separate sweep.
 */
export const requestStatusEventsMigration: Migration = {
  async up(db: Kysely<any>) {
    await sql
      .raw(
        `
      create table request_status_events (
        id bigint generated always as identity primary key,
        request_id integer not null,
        root_id integer not null,
        parent_id integer,
        customer_id integer not null,
        entity text not null,
        entity_id integer not null,
        action text not null,
        status text not null,
        at timestamptz not null default clock_timestamp()
      );
      create index request_status_events_at on request_status_events (at);

      create or replace function tenantry_request_status_notify() returns trigger language plpgsql as $$
      declare
        event_id bigint;
        event_at timestamptz := clock_timestamp();
      begin
        if tg_op = 'INSERT' or old.status is distinct from new.status then
          insert into request_status_events (request_id, root_id, parent_id, customer_id, entity, entity_id, action, status, at)
            values (new.id, coalesce(new.root_id, new.id), new.parent_id, new.customer_id, new.entity, new.entity_id, new.action, new.status, event_at)
            returning id into event_id;
          perform pg_notify('${REQUEST_FEED_CHANNEL}', json_build_object(
            'eventId', event_id, 'id', new.id, 'rootId', coalesce(new.root_id, new.id), 'parentId', new.parent_id,
            'customerId', new.customer_id, 'path', (select path from customers where id = new.customer_id),
            'entity', new.entity, 'entityId', new.entity_id, 'action', new.action, 'status', new.status,
            'at', to_char(event_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'))::text);
          if event_id % 1000 = 0 then
            delete from request_status_events where at < event_at - interval '${REQUEST_EVENTS_KEPT}';
          end if;
        end if;
        return null;
      end $$;
    `,
      )
      .execute(db);
  },
};

/**
 * The feed reads committed changes instead of being told of each one (see request-feed.ts): every
 * event records its transaction's id, and the trigger no longer NOTIFYs. PostgreSQL serialises the
 * commit of every notifying transaction in the whole cluster on one lock and wakes every listener
 * for every notification; with two status changes per request, that cost the engine about a fifth
 * of its drain rate with two worker processes.
 */
export const requestStatusEventsByCommitMigration: Migration = {
  async up(db: Kysely<any>) {
    await sql
      .raw(
        `
      alter table request_status_events add column xid xid8 not null default pg_current_xact_id();
      create index request_status_events_xid on request_status_events (xid);

      drop trigger provisioning_requests_status_notify on provisioning_requests;
      drop function tenantry_request_status_notify();
      create function tenantry_request_status_event() returns trigger language plpgsql as $$
      declare
        event_id bigint;
        event_at timestamptz := clock_timestamp();
      begin
        if tg_op = 'INSERT' or old.status is distinct from new.status then
          insert into request_status_events (request_id, root_id, parent_id, customer_id, entity, entity_id, action, status, at)
            values (new.id, coalesce(new.root_id, new.id), new.parent_id, new.customer_id, new.entity, new.entity_id, new.action, new.status, event_at)
            returning id into event_id;
          if event_id % 1000 = 0 then
            delete from request_status_events where at < event_at - interval '${REQUEST_EVENTS_KEPT}';
          end if;
        end if;
        return null;
      end $$;
      create trigger provisioning_requests_status_event after insert or update of status on provisioning_requests
        for each row execute function tenantry_request_status_event();
    `,
      )
      .execute(db);
  },
};
