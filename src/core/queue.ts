/**
 * The job queue: pg-boss 10 (Node 20) on both engines. Jobs live in the database, so a job sent
 * inside a transaction exists if and only if that transaction commits (outbox).
 *
 * Pickup latency: pg-boss polls (500 ms at best). Every send also NOTIFYs `tenantry_queue` in the
 * same transaction, and running queues LISTEN and wake their workers, so a committed job starts
 * within milliseconds; polling remains the fallback when a notification is lost.
 */
import PgBoss from 'pg-boss';
import { CompiledQuery, sql, type Kysely, type Migration } from 'kysely';
import { withDefaultUser, type Database, type Tx } from './db/database.js';
import type { Logger } from './logger.js';

export const QUEUE_SCHEMA = 'pgboss';
const NOTIFY_CHANNEL = 'tenantry_queue';

export type QueuePolicy = 'standard' | 'short' | 'singleton' | 'stately';

/** A named queue. `short` keeps at most one waiting job per singleton key. */
export interface QueueDefinition {
  name: string;
  policy?: QueuePolicy;
  /** pg-boss's own retries when a handler throws (engine-level retries are separate). */
  retryLimit?: number;
  retryDelaySeconds?: number;
  retryBackoff?: boolean;
  /** A job whose handler runs longer is failed (and retried) by pg-boss maintenance. */
  expireInSeconds?: number;
}

export interface SendOptions {
  /** With a `short` queue: a second waiting job with the same key is dropped. */
  singletonKey?: string;
  /** Delay before the job may start. */
  startAfterSeconds?: number;
}

export interface QueueJob<T> {
  id: string;
  name: string;
  data: T;
}

export interface WorkOptions {
  /** Parallel workers in this process. */
  concurrency?: number;
  batchSize?: number;
}

export interface QueueOptions {
  logger: Logger;
  /** Fallback polling when no notification arrives; at least 0.5 s. */
  pollingIntervalSeconds?: number;
  /** Run pg-boss cron schedules in this process. */
  schedule?: boolean;
  /** Connections of pg-boss's own pool (server only). */
  poolSize?: number;
  maintenanceIntervalSeconds?: number;
}

/** Installs pg-boss's tables; runs inside the migration's transaction (its BEGIN/COMMIT are stripped). */
export const queueSchemaMigration: Migration = {
  async up(db: Kysely<any>) {
    const plans = PgBoss.getConstructionPlans(QUEUE_SCHEMA)
      .replace(/^\s*BEGIN;/, '')
      .replace(/COMMIT;\s*$/, '');
    await sql.raw(plans).execute(db);
  },
};

/** A migration that creates one queue, so outbox sends never target a missing queue (pg-boss drops those silently). */
export function createQueueMigration(def: QueueDefinition): Migration {
  return {
    async up(db: Kysely<any>) {
      await sql`select ${sql.raw(QUEUE_SCHEMA)}.create_queue(${def.name}, ${JSON.stringify(queueOptions(def))}::json)`.execute(db);
    },
  };
}

function queueOptions(def: QueueDefinition): Record<string, unknown> {
  return {
    policy: def.policy ?? 'standard',
    retryLimit: def.retryLimit,
    retryDelay: def.retryDelaySeconds,
    retryBackoff: def.retryBackoff,
    expireInSeconds: def.expireInSeconds,
  };
}

// Builds pg-boss's SQL for sends that run on a caller's transaction; it never opens a connection.
const sender = new PgBoss({
  schema: QUEUE_SCHEMA,
  db: { executeSql: () => Promise.reject(new Error('queue sender has no connection of its own')) },
});

function executorOf(tx: Tx): PgBoss.Db {
  return {
    executeSql: async (text, values) => ({
      rows: (await tx.executeQuery(CompiledQuery.raw(text, values ?? []))).rows as Record<string, unknown>[],
    }),
  };
}

function sendOptions(options: SendOptions): PgBoss.SendOptions {
  return {
    ...(options.singletonKey ? { singletonKey: options.singletonKey } : {}),
    ...(options.startAfterSeconds ? { startAfter: Math.max(1, Math.ceil(options.startAfterSeconds)) } : {}),
  };
}

/**
 * Sends a job through the transaction's own connection: it exists iff `tx` commits.
 * (With PGlite, awaiting the global connection inside an open transaction would deadlock.)
 * Returns the job id, or null when a `short` queue already holds a waiting job with this key.
 */
export async function sendInTransaction(tx: Tx, queue: string, data: object, options: SendOptions = {}): Promise<string | null> {
  const db = executorOf(tx);
  const id = await sender.send(queue, data, { ...sendOptions(options), db });
  await db.executeSql(`select pg_notify('${NOTIFY_CHANNEL}', $1)`, [queue]);
  return id;
}

/** One pg-boss instance per process and database: workers, plain sends, schedules. */
export class Queue {
  private readonly workers = new Map<string, string[]>();
  private unlisten: (() => Promise<void>) | undefined;

  private constructor(
    readonly boss: PgBoss,
    private readonly logger: Logger,
  ) {}

  static async start(database: Database, options: QueueOptions): Promise<Queue> {
    const common = {
      schema: QUEUE_SCHEMA,
      migrate: true,
      supervise: true,
      schedule: options.schedule ?? false,
      pollingIntervalSeconds: Math.max(0.5, options.pollingIntervalSeconds ?? 2),
      maintenanceIntervalSeconds: options.maintenanceIntervalSeconds ?? 60,
    };
    const boss =
      database.engine === 'postgres'
        ? new PgBoss({ ...common, connectionString: withDefaultUser(database.url!), max: options.poolSize ?? 4 })
        : new PgBoss({
            ...common,
            db: { executeSql: (text, values) => (values?.length ? database.raw.query(text, values) : database.raw.exec(text)) },
          });
    const queue = new Queue(boss, options.logger);
    boss.on('error', (error) => options.logger.error({ err: error }, 'queue error'));
    await boss.start();
    // A reconnect may have missed a wake-up: wake every worker once (they poll anyway, this only saves latency).
    queue.unlisten = await database.raw.listen(
      NOTIFY_CHANNEL,
      () => queue.wakeAll(),
      () => queue.wakeAll(),
    );
    return queue;
  }

  /** Creates a queue if it does not exist (idempotent). */
  async ensureQueue(def: QueueDefinition): Promise<void> {
    await this.boss.createQueue(def.name, { name: def.name, ...(queueOptions(def) as Omit<PgBoss.Queue, 'name'>) });
  }

  /** Sends outside any transaction (use sendInTransaction inside one). */
  async send(queue: string, data: object, options: SendOptions = {}): Promise<string | null> {
    return this.boss.send(queue, data, sendOptions(options));
  }

  /**
   * Runs `handler` for each job of `queue` on `concurrency` workers. A throwing handler fails the
   * job (pg-boss retries it per the queue's retryLimit). A worker that found work fetches again at
   * once instead of sleeping a polling interval, so a backlog drains at full speed.
   */
  async work<T extends object>(queue: string, options: WorkOptions, handler: (job: QueueJob<T>) => Promise<void>): Promise<void> {
    const ids: string[] = [];
    for (let i = 0; i < (options.concurrency ?? 1); i++) {
      const id = await this.boss.work<T>(queue, { batchSize: options.batchSize ?? 1 }, async (jobs) => {
        for (const job of jobs) await handler(job);
        if (jobs.length > 0 && id) this.boss.notifyWorker(id);
      });
      ids.push(id);
    }
    this.workers.set(queue, [...(this.workers.get(queue) ?? []), ...ids]);
  }

  private wakeAll(): void {
    for (const ids of this.workers.values()) for (const id of ids) this.boss.notifyWorker(id);
  }

  /** Stops the workers (letting running handlers finish up to `timeoutMs`) and pg-boss. */
  async stop(timeoutMs = 10_000): Promise<void> {
    await this.unlisten?.().catch((e) => this.logger.warn({ err: e }, 'queue: unlisten failed'));
    this.unlisten = undefined;
    this.workers.clear();
    await this.boss.stop({ graceful: true, wait: true, timeout: timeoutMs });
  }
}
