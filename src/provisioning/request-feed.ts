import type { Database, Executor } from '../core/db/database.js';
import type { ProvisioningStatus } from '../core/statuses.js';
import { pathInScope, type Caller } from '../tenancy/caller.js';
import { selectChangesAfter, selectChangesCommittedSince, selectCurrentSnapshot, type ChangeRow } from './request-feed.queries.js';
import type { RequestAction, RequestEntity } from './schema.js';

/** One status change of a provisioning request, as the trigger records it. */
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
/** A change with its customer's path, to tell which subscribers may see it. */
type ScopedChange = RequestStatusChange & { path: string };

/** At most this many missed changes are replayed to one console; more and it is told to reload instead. */
export const REPLAY_LIMIT = 1000;

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

/** How often a process with open streams reads the status changes committed since its last read. */
export const FEED_READ_MS = 250;

/**
 * The process's one reader of request status changes, fanned out to subscribers, each seeing only
 * its caller's subtree. While any stream is open it reads what committed since its last read, once
 * every FEED_READ_MS however many consoles watch; with none open it reads nothing. Each read starts
 * from the previous read's snapshot, so a change is delivered once, even one that committed after
 * a change with a higher event id, and a read that fails (the database unreachable) is simply
 * made again from the same snapshot. A subscriber gets exactly the changes its own snapshot, taken
 * when it subscribes, did not see.
 */
export class RequestFeed {
  private readonly subscribers = new Set<Subscriber>();
  /** Resolves once reading has started; unset while nobody subscribes. */
  private started: Promise<void> | undefined;
  /** The snapshot of the last read: the next read delivers what committed after it. */
  private since = '';

  constructor(private readonly database: Database) {}

  /** Starts delivering the caller's changes committed from now on to `listener`; resolves to the function that stops it. */
  async subscribe(caller: Caller, listener: Listener): Promise<() => void> {
    const subscriber: Subscriber = { caller, listener, waiting: [] };
    this.subscribers.add(subscriber);
    try {
      await (this.started ??= this.start()).catch((e: unknown) => {
        this.started = undefined;
        throw e;
      });
      // Taken after reading started, so every change this snapshot did not see is in a read to come
      // or in one that has just been offered (and waits in `waiting` until now).
      subscriber.saw = snapshotSaw(await selectCurrentSnapshot(this.database.db));
    } catch (e) {
      this.subscribers.delete(subscriber);
      throw e;
    }
    for (const change of subscriber.waiting.splice(0)) offer(subscriber, change);
    return () => {
      this.subscribers.delete(subscriber);
    };
  }

  private async start(): Promise<void> {
    this.since = await selectCurrentSnapshot(this.database.db);
    this.readLater();
  }

  private readLater(): void {
    setTimeout(() => void this.read(), FEED_READ_MS).unref();
  }

  private async read(): Promise<void> {
    // The last stream closed: stop reading; the next subscriber starts from its own moment.
    if (this.subscribers.size === 0) {
      this.started = undefined;
      return;
    }
    try {
      const { snapshot, rows } = await selectChangesCommittedSince(this.database.db, this.since);
      this.since = snapshot;
      for (const row of rows) {
        const change = { ...toChange(row), xid: BigInt(row.xid) };
        for (const subscriber of this.subscribers) offer(subscriber, change);
      }
    } catch {
      // The database is unreachable: the next read starts from the same snapshot and misses nothing.
    }
    this.readLater();
  }
}

type CommittedChange = ScopedChange & { xid: bigint };

interface Subscriber {
  caller: Caller;
  listener: Listener;
  /** Whether a transaction had committed when the subscriber's snapshot was taken; unset until it is. */
  saw?: (xid: bigint) => boolean;
  /** Changes read before that snapshot was known. */
  waiting: CommittedChange[];
}

function offer(subscriber: Subscriber, committed: CommittedChange): void {
  if (!subscriber.saw) {
    subscriber.waiting.push(committed);
    return;
  }
  const { path, xid, ...change } = committed;
  if (subscriber.saw(xid) || !pathInScope(subscriber.caller, path)) return;
  try {
    subscriber.listener(change);
  } catch {
    // One broken subscriber (a closed stream) must not starve the others.
  }
}

/**
 * A snapshot's view of transactions, from its text form `xmin:xmax:running,…`: one below xmin has
 * ended, one at or above xmax had not started, one between ended unless it is listed as running.
 * (Aborted transactions write no visible change, so "ended" is "committed" for the rows read.)
 */
function snapshotSaw(snapshot: string): (xid: bigint) => boolean {
  const [xmin, xmax, running] = snapshot.split(':');
  const low = BigInt(xmin!);
  const high = BigInt(xmax!);
  const inProgress = new Set((running ?? '').split(',').filter(Boolean).map(BigInt));
  return (xid) => xid < low || (xid < high && !inProgress.has(xid));
}

function toChange(r: ChangeRow): ScopedChange {
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

function withoutPath({ path: _path, ...change }: ScopedChange): RequestStatusChange {
  return change;
}

const feeds = new WeakMap<Database, RequestFeed>();

/** The shared feed of a database handle (one per process). */
export function requestFeed(database: Database): RequestFeed {
  let feed = feeds.get(database);
  if (!feed) feeds.set(database, (feed = new RequestFeed(database)));
  return feed;
}
