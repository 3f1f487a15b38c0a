import type { Database, Executor } from '../core/db/database.js';
import type { ProvisioningStatus } from '../core/statuses.js';
import { pathInScope, type Caller } from '../tenancy/caller.js';
import { REQUEST_FEED_CHANNEL } from './request-feed.schema.js';
import { selectChangesAfter, selectLastEventId } from './request-feed.queries.js';
import type { RequestAction, RequestEntity } from './schema.js';

/** One status change of a provisioning request, as the trigger announces it. */
export interface RequestStatusChange {
  /** Grows with every change (request_status_events): what a reconnecting console names in Last-Event-ID. */
  eventId: number;
  id: number;
  rootId: number;
  parentId: number | null;
  customerId: number;
  entity: RequestEntity;
  entityId: number;
  action: RequestAction;
  status: ProvisioningStatus;
  at: string;
}

type Listener = (change: RequestStatusChange) => void;
type Announced = RequestStatusChange & { path: string | null };

/** At most this many missed changes are replayed to one console; more and it is told to reload instead. */
export const REPLAY_LIMIT = 1000;
/** At most this many changes missed while the listening connection was down are fetched again. */
const CATCH_UP_LIMIT = 10_000;

/**
 * The caller's status changes after `afterEventId`, oldest first (at most `limit`): what a console
 * missed while its stream was closed.
 */
export async function requestChangesSince(
  db: Executor,
  caller: Caller,
  afterEventId: number,
  limit: number,
): Promise<RequestStatusChange[]> {
  const rows = await selectChangesAfter(db, afterEventId, limit, caller).execute();
  return rows.map((r) => withoutPath(toChange(r)));
}

/**
 * The process's one listener on request status changes (LISTEN on PostgreSQL; PGlite delivers the
 * same NOTIFY in process), fanned out to subscribers, each seeing only its caller's subtree.
 * However many consoles watch, the database holds one listening connection and is never polled.
 * When that connection drops and is opened again, the changes announced meanwhile are read back
 * from request_status_events, so no subscriber misses one.
 */
export class RequestFeed {
  private readonly subscribers = new Set<{ caller: Caller; listener: Listener }>();
  private unlisten: Promise<() => Promise<void>> | undefined;
  /** The highest event id heard: where a catch-up after a reconnect starts. */
  private lastEventId = 0;
  /** Notifications that arrive while a catch-up reads the table wait here (then each is delivered once). */
  private held: Announced[] | undefined;

  constructor(private readonly database: Database) {}

  /** Starts delivering the caller's changes to `listener`; resolves to the function that stops it. */
  async subscribe(caller: Caller, listener: Listener): Promise<() => void> {
    const entry = { caller, listener };
    this.subscribers.add(entry);
    try {
      await (this.unlisten ??= this.listen());
    } catch (e) {
      this.subscribers.delete(entry);
      this.unlisten = undefined;
      throw e;
    }
    return () => {
      this.subscribers.delete(entry);
    };
  }

  get size(): number {
    return this.subscribers.size;
  }

  async close(): Promise<void> {
    this.subscribers.clear();
    const pending = this.unlisten;
    this.unlisten = undefined;
    if (pending) await (await pending)();
  }

  private async listen(): Promise<() => Promise<void>> {
    const unlisten = await this.database.raw.listen(
      REQUEST_FEED_CHANNEL,
      (payload) => this.receive(payload),
      () => void this.catchUp(),
    );
    this.lastEventId = Math.max(this.lastEventId, await selectLastEventId(this.database.db));
    return unlisten;
  }

  private receive(payload: string): void {
    let announced: Announced;
    try {
      announced = JSON.parse(payload) as Announced;
    } catch {
      return;
    }
    if (this.held) this.held.push(announced);
    else this.deliver(announced);
  }

  /** After a reconnect: what was committed while nobody listened, then what arrived meanwhile, each once. */
  private async catchUp(): Promise<void> {
    if (this.held) return;
    this.held = [];
    const delivered = new Set<number>();
    try {
      const missed = await selectChangesAfter(this.database.db, this.lastEventId, CATCH_UP_LIMIT).execute();
      for (const row of missed) {
        delivered.add(Number(row.id));
        this.deliver(toChange(row));
      }
    } catch {
      // The database is unreachable again: the next reconnect catches up from the same point.
    } finally {
      const held = this.held;
      this.held = undefined;
      for (const announced of held) if (!delivered.has(announced.eventId)) this.deliver(announced);
    }
  }

  private deliver(announced: Announced): void {
    const { path, ...change } = announced;
    this.lastEventId = Math.max(this.lastEventId, change.eventId ?? 0);
    if (path === null) return;
    for (const s of this.subscribers) {
      if (!pathInScope(s.caller, path)) continue;
      try {
        s.listener(change);
      } catch {
        // One broken subscriber (a closed stream) must not starve the others.
      }
    }
  }
}

type EventRow = Awaited<ReturnType<ReturnType<typeof selectChangesAfter>['execute']>>[number];

function toChange(r: EventRow): Announced {
  return {
    eventId: Number(r.id),
    id: r.request_id,
    rootId: r.root_id,
    parentId: r.parent_id,
    customerId: r.customer_id,
    entity: r.entity,
    entityId: r.entity_id,
    action: r.action,
    status: r.status,
    at: new Date(r.at).toISOString(),
    path: r.path,
  };
}

function withoutPath({ path: _path, ...change }: Announced): RequestStatusChange {
  return change;
}

const feeds = new WeakMap<Database, RequestFeed>();

/** The shared feed of a database handle (one per process). */
export function requestFeed(database: Database): RequestFeed {
  let feed = feeds.get(database);
  if (!feed) feeds.set(database, (feed = new RequestFeed(database)));
  return feed;
}
