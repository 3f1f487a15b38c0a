import fs from 'node:fs';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { sql, type RawBuilder } from 'kysely';
import { inTransaction, withDefaultUser, type DB, type Tx } from '../src/core/db/database.js';
import { systemCaller } from '../src/tenancy/caller.js';
import { setBillingSettings } from '../src/billing/periods/bill-periods.js';
import { runBilling } from '../src/billing/run/run-billing.js';
import { addNoSkuRule } from '../src/billing/rules/billing-rules.js';
import { fillEmptyPeriod, rebuildPeriod } from '../src/billing/run/run-billing.queries.js';
import { selectRulesInForce } from '../src/billing/rules/apply-rules.js';
import { createApiToken, tokenSigningKey } from '../src/tenancy/api-tokens/api-token.service.js';
import { SecretBox } from '../src/core/crypto.js';
import { createLogger } from '../src/core/logger.js';
import { loadConfig } from '../src/core/config.js';
import { BENCH_ENV } from './support.js';
import { buildServer } from '../src/api/server.js';
import { BENCH_PASSWORD, benchDatabase, percentile, rate, ratio } from './support.js';
import { execFile, spawnSync } from 'node:child_process';
import type { DetailClientJob, DetailClientResult } from './detail-client.js';
import type { Bench } from './run.js';
import { BENCH_SIZE, bySize } from './size.js';

// At --large, about a million detail rows (4.2 items a user): the stream's memory is measured at that size on both engines.
const USERS = Number(process.env.BENCH_BILLING_USERS ?? bySize({ quick: 2_000, default: 100_000, large: 250_000 }));
const CUSTOMERS = Math.max(1, Math.round(USERS / 100));
const PERIOD_END = '2024-06-30';
const NOW = new Date('2024-07-02T00:00:00Z');

/**
 * Billing run for USERS users × 3 user services with a month of changes (plan changes, removals,
 * additions, deleted users), beside a hand-written single statement computing the same items;
 * then the detail endpoint streaming the period over HTTP: rows/s and peak RSS growth.
 */
export const billingBench: Bench = {
  name: 'billing',
  async run() {
    const engines = (process.env.BENCH_BILLING_ENGINES ?? 'pglite,postgres').split(',') as ('pglite' | 'postgres')[];
    for (const engine of engines) {
      const { database, provider } = await benchDatabase(engine);
      const db = database.db;
      const caller = systemCaller(provider, 'bench');
      await inTransaction(db, (tx) =>
        setBillingSettings(tx, caller, { timeZone: 'UTC', kind: 'month_end', day: 0 }, new Date('2024-05-01T00:00:00Z')),
      );
      await inTransaction(db, (tx) => addNoSkuRule(tx, caller));
      const loadStart = performance.now();
      const ledgerRows = await loadLedger(db, provider.id, provider.path);
      console.log(
        `[${engine}] loaded ${USERS.toLocaleString('en-US')} users, ${ledgerRows.toLocaleString('en-US')} ledger rows in ${Math.round(performance.now() - loadStart)} ms`,
      );

      // The machine may be shared: each measurement is repeated, alternating run and baseline, and the median quoted.
      const reps = Math.max(1, Number(process.env.BENCH_BILLING_REPEAT ?? bySize({ quick: 1, default: 3 })));
      // A plain table: on a server the pool may hand the comparison another connection than a temp table's.
      await sql`drop table if exists bench_baseline_items; create table bench_baseline_items (like bill_items including all)`.execute(db);
      const firsts: number[] = [];
      const agains: number[] = [];
      const baselines: number[] = [];
      let items = 0;
      let rewritten = 0;
      for (let i = 0; i < reps; i++) {
        // truncate, not delete: the first iteration's table had no dead rows either (PGlite never vacuums on its own).
        if (i > 0) await sql`truncate bill_items`.execute(db);
        // The period ended before NOW: the first run finalizes it, later ones are reprocesses.
        const first = await timed(() => runBilling(db, caller, { period: PERIOD_END, reprocess: i > 0, now: NOW }));
        const again = await timed(() => runBilling(db, caller, { period: PERIOD_END, reprocess: true, now: NOW }));
        await sql`truncate bench_baseline_items`.execute(db);
        const baseline = await timed(() => withRunSettings(db, (tx) => baselineStatement().execute(tx)));
        firsts.push(first.ms);
        agains.push(again.ms);
        baselines.push(baseline.ms);
        items = first.value[0]!.items;
        rewritten = Math.max(rewritten, again.value[0]!.added + again.value[0]!.removed);
      }
      const check = await compareWithBaseline(db);
      const first = median(firsts);
      const baseline = median(baselines);
      const samples = (xs: number[]) => `median of ${xs.join(', ')} ms`;
      console.log(
        `[${engine}] billing run (first, ${items.toLocaleString('en-US')} items written): ${first} ms = ${rate(items, first)} (${samples(firsts)})`,
      );
      console.log(
        `[${engine}] billing run (re-run, nothing changed, ${rewritten} rows written): ${median(agains)} ms (${samples(agains)}) → re-run/baseline = ${(median(agains) / baseline).toFixed(2)}×`,
      );
      console.log(
        `[${engine}] hand-written single-statement baseline (same item rows written, same session settings): ${baseline} ms (${samples(baselines)}) → run/baseline = ${(first / baseline).toFixed(2)}×`,
      );
      console.log(
        `[${engine}] baseline agrees with the run on ${check.same.toLocaleString('en-US')} of ${check.total.toLocaleString('en-US')} items (start, end, %, action, SKU, billable, descriptions, bill-to, removed by)`,
      );
      if (engine === 'postgres') {
        const server = await serverTimes(db, reps);
        console.log(
          `[postgres] server execution time (EXPLAIN ANALYZE, same settings for both, medians): run statement ${server.run} ms (first run, from empty), ${server.rerun} ms (re-run, nothing changed), baseline ${server.baseline} ms → ${(server.run / server.baseline).toFixed(2)}×`,
        );
      }
      await streamDetail(engine, database, provider, caller);
      await database.close();
    }
  },
};

function median(xs: number[]): number {
  const sorted = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : Math.round((sorted[mid - 1]! + sorted[mid]!) / 2);
}

/** Runs fn in a transaction with the session settings runBilling uses, so the baseline gets the same memory. */
async function withRunSettings<T>(db: DB, fn: (tx: Tx) => Promise<T>): Promise<T> {
  return db.transaction().execute(async (tx) => {
    await sql`set local jit = off; set local work_mem = '64MB'`.execute(tx);
    return fn(tx);
  });
}

async function timed<T>(fn: () => Promise<T>): Promise<{ ms: number; value: T }> {
  const start = performance.now();
  const value = await fn();
  return { ms: Math.round(performance.now() - start), value };
}

/** Customers, users and a ledger: set up in May, a month of changes in June 2024. */
async function loadLedger(db: DB, providerId: number, providerPath: string): Promise<number> {
  await sql`
    insert into customers (parent_id, path, depth, name, fullname, contact_name, contact_email, primary_domain, status)
    select ${providerId}, ${providerPath}, 1, 'BC' || g, 'Bench Customer ' || g, 'c', 'c@c', 'bc' || g || '.example', 'Provisioned'
    from generate_series(1, ${CUSTOMERS}) g`.execute(db);
  await sql`update customers set path = path || id || '/' where name like 'BC%' and path = ${providerPath}`.execute(db);
  await sql`
    insert into users (customer_id, name, upn, first_name, last_name, status)
    select c.id, 'u' || g || '_' || c.name, 'u' || g || '@' || c.primary_domain, 'User', g::text, 'Provisioned'
    from generate_series(0, ${USERS - 1}) g join customers c on c.name = 'BC' || (g % ${CUSTOMERS} + 1)`.execute(db);
  return seedLedger(db);
}

/**
 * A month of ledger rows for every user named `u…_BC…`: created and given three services in May,
 * then in June 10% change the mailbox plan, 5% lose CRM, 5% gain a fourth service, 1% are deleted.
 * Returns the ledger's size.
 */
export async function seedLedger(db: DB): Promise<number> {
  const services = await db.selectFrom('services').select(['id', 'code']).where('code', 'in', ['HE', 'CRM2011', 'FSS']).execute();
  const id = (code: string) => services.find((s) => s.code === code)!.id;
  await sql`
    with u as (select id, customer_id, row_number() over (order by id) - 1 as n from users where name like 'u%\\_BC%'),
    svc (k, service_id, plan_code, plan_name, sku) as (values
      (0, ${id('HE')}::int, 'Ex10Basic', 'Ex10 Basic', 'HE-MBX-BASIC'),
      (1, ${id('CRM2011')}::int, 'FULL', 'Full', 'CRM-FULL'),
      (2, ${id('FSS')}::int, 'READ', 'Read', 'FSS-USER-READ'),
      (3, ${id('FSS')}::int, 'FULL', 'Full', 'FSS-USER-FULL'))
    insert into service_changes (occurred_at, action, actor_user_id, actor_name, customer_id, user_id, service_id, user_service_id, plan_code, plan_name, sku, quantity)
    select e.at, e.action, null, 'bench', u.customer_id, u.id, e.service_id, e.us, e.plan_code, e.plan_name, e.sku, e.quantity
    from u cross join lateral (
      select timestamptz '2024-05-01' + (u.n % 600) * interval '1 minute' as at, 'user_created' as action, null::int as service_id, null::int as us, null::text as plan_code, null::text as plan_name, null::text as sku, 1::numeric as quantity
      union all
      select timestamptz '2024-05-02' + (u.n % 600) * interval '1 minute', 'user_service_added', s.service_id, u.n * 4 + s.k, s.plan_code, s.plan_name, s.sku, 1 from svc s where s.k < 3
      union all -- 10%: plan change of the mailbox
      select timestamptz '2024-06-01' + (u.n % 29) * interval '1 day' + interval '9 hours', 'user_service_plan_changed', ${id('HE')}::int, u.n * 4, 'Ex10Full', 'Ex10 Full', 'HE-MBX-FULL', 1 where u.n % 10 = 0
      union all -- 5%: CRM removed
      select timestamptz '2024-06-01' + (u.n % 29) * interval '1 day' + interval '15 hours', 'user_service_removed', ${id('CRM2011')}::int, u.n * 4 + 1, null, null, null, 0 where u.n % 20 = 1
      union all -- 5%: a fourth service added
      select timestamptz '2024-06-01' + (u.n % 29) * interval '1 day' + interval '11 hours', 'user_service_added', s.service_id, u.n * 4 + 3, s.plan_code, s.plan_name, s.sku, 1 from svc s where s.k = 3 and u.n % 20 = 2
      union all -- 1%: user deleted (its services end with it)
      select timestamptz '2024-06-01' + (u.n % 29) * interval '1 day' + interval '20 hours', 'user_deleted', null, null, null, null, null, 0 where u.n % 100 = 3
    ) e`.execute(db);
  const n = await db
    .selectFrom('service_changes')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .executeTakeFirstOrThrow();
  await sql`analyze`.execute(db);
  return Number(n.n);
}

/**
 * The baseline: the statement a developer would write by hand for this data — user and user
 * service items only, intervals by lead(), a deleted user ending its services, the no-SKU rule as
 * `sku is not null`, one-level bill-to — writing the same columns into a table shaped (and indexed)
 * like bill_items.
 */
function baselineStatement() {
  return sql`
    insert into bench_baseline_items (bill_period_id, service_change_id, item_kind, customer_id, bill_customer_id, user_id, service_id,
      user_service_id, plan_code, plan_name, sku, sku_type, line_description, summary_grouping, started_at, ended_at, percent_duration,
      quantity, action, added_by_user_id, added_by_user_name, removed_by_user_id, removed_by_user_name, actioned_at, actioned_by,
      is_billable, override_reason, bill_config_rule_id)
    with ev as (
      select *, case when action like 'user\\_service\\_%' then user_service_id else user_id end as entity,
             action like 'user\\_service\\_%' as is_service
      from service_changes where occurred_at < timestamptz '2024-07-01' and action like 'user\\_%'
    ),
    seg as (
      select ev.*, lead(occurred_at) over w as next_at, lead(actor_name) over w as next_by, lead(actor_user_id) over w as next_by_id
      from ev window w as (partition by is_service, entity order by occurred_at, id)
    ),
    deleted as (select user_id, occurred_at, actor_name, actor_user_id from service_changes where action = 'user_deleted'),
    items as (
      select s.*, case when d.occurred_at is not null and (s.next_at is null or d.occurred_at < s.next_at) then d.occurred_at else s.next_at end as end_at,
             case when d.occurred_at is not null and (s.next_at is null or d.occurred_at < s.next_at) then d.actor_name else s.next_by end as end_by,
             case when d.occurred_at is not null and (s.next_at is null or d.occurred_at < s.next_at) then d.actor_user_id else s.next_by_id end as end_by_id
      from seg s left join deleted d on s.is_service and d.user_id = s.user_id and d.occurred_at > s.occurred_at
      where s.action in ('user_created', 'user_enabled', 'user_service_added', 'user_service_plan_changed')
    )
    select 0, i.id, case when i.is_service then 4 else 3 end, i.customer_id, coalesce(case when c.bill_to_parent then c.parent_id end, c.id),
           i.user_id, i.service_id, i.user_service_id, i.plan_code, i.plan_name, i.sku, 'User',
           case when i.is_service then sv.fullname || ', ' || i.plan_name || ' - ' || u.first_name || ' ' || u.last_name else u.first_name || ' ' || u.last_name end,
           case when i.is_service then sv.fullname || ', ' || i.plan_name else 'Users' end,
           i.occurred_at, i.end_at,
           round(((case when i.end_at is null then date '2024-07-01' else (i.end_at at time zone 'UTC')::date end)
                  - greatest((i.occurred_at at time zone 'UTC')::date, date '2024-06-01')) * 100.0 / 30, 2),
           i.quantity, case when i.end_at is not null then 'Removed' when i.occurred_at >= timestamptz '2024-06-01' then 'Added' else 'Carried' end,
           i.actor_user_id, i.actor_name, i.end_by_id, i.end_by, coalesce(i.end_at, i.occurred_at), coalesce(i.end_by, i.actor_name),
           i.sku is not null, case when i.sku is null then 'No SKU' end, null
    from items i join customers c on c.id = i.customer_id join users u on u.id = i.user_id left join services sv on sv.id = i.service_id
    where i.end_at is null or i.end_at > timestamptz '2024-06-01'`;
}

async function compareWithBaseline(db: DB): Promise<{ total: number; same: number }> {
  const cols =
    'started_at, ended_at, percent_duration, action, sku, is_billable, summary_grouping, line_description, bill_customer_id, removed_by_user_name';
  const r = await sql<{ total: number; same: number }>`
    select (select count(*) from bill_items)::int as total, count(*)::int as same
    from bench_baseline_items b join bill_items i on i.service_change_id = b.service_change_id
    where ${sql.raw(
      `row(${cols
        .split(', ')
        .map((c) => `i.${c}`)
        .join(', ')}) is not distinct from row(${cols
        .split(', ')
        .map((c) => `b.${c}`)
        .join(', ')})`,
    )}`.execute(db);
  return r.rows[0]!;
}

async function serverTimes(db: DB, reps: number): Promise<{ run: number; rerun: number; baseline: number }> {
  const period = await db
    .selectFrom('bill_periods')
    .select(['id', 'starts_at', 'ends_at'])
    .where(sql<string>`to_char(end_date, 'YYYY-MM-DD')`, '=', PERIOD_END)
    .executeTakeFirstOrThrow();
  const bounds = {
    id: period.id,
    startDate: '2024-06-01',
    endDate: PERIOD_END,
    startsAt: period.starts_at,
    endsAt: period.ends_at,
    timeZone: 'UTC',
  };
  const rules = await selectRulesInForce(db, bounds.startDate, bounds.endDate);
  // Each statement is measured inside a transaction that is rolled back.
  const explain = async (prepare: string, statement: RawBuilder<unknown>) => {
    let ms = 0;
    await withRunSettings(db, async (tx) => {
      if (prepare) await sql.raw(prepare).execute(tx);
      const r = await sql<{ 'QUERY PLAN': [{ 'Execution Time': number }] }>`explain (analyze, format json) ${statement}`.execute(tx);
      ms = Math.round(r.rows[0]!['QUERY PLAN'][0]['Execution Time']);
      throw new RollbackSignal();
    }).catch((e) => {
      if (!(e instanceof RollbackSignal)) throw e;
    });
    return ms;
  };
  const run: number[] = [];
  const rerun: number[] = [];
  const baseline: number[] = [];
  for (let i = 0; i < reps; i++) {
    // The run's first statement on an empty period is fillEmptyPeriod (run-billing.ts picks it).
    run.push(await explain(`delete from bill_items where bill_period_id = ${period.id}`, fillEmptyPeriod(bounds, rules)));
    rerun.push(await explain('', rebuildPeriod(bounds, rules)));
    baseline.push(await explain('delete from bench_baseline_items', baselineStatement()));
  }
  return { run: median(run), rerun: median(rerun), baseline: median(baseline) };
}

class RollbackSignal extends Error {}

export interface StreamFigures {
  rows: number;
  ms: number;
  rssGrowthMb: number;
  /** CortexAPI GETs answered while the detail streamed, and their latency beside the same GET on the idle server. */
  gets: GetLatency;
}

/** Sequential CortexAPI GETs: how many, their median and slowest answer. */
export interface GetLatency {
  count: number;
  p50Ms: number;
  maxMs: number;
}

/** The slowest CortexAPI GET allowed while a detail streams (issue 15 §4), enforced at --large where the stream is ≈1M rows. */
const STREAMING_GET_LIMIT_MS = 200;
/** The most the server's RSS may grow while it streams a detail (issue 15 §4), enforced at --large. */
const STREAMING_RSS_LIMIT_MB = 100;

/**
 * The detail endpoint streaming the period over HTTP to a client in a process of its own
 * (detail-client.ts): rows/s and the server process's peak RSS growth; then streaming it again
 * with CortexAPI GETs of the provider one after another for as long as it streams, beside the same
 * GETs on the idle server just before: their median and slowest answer show how long the stream
 * holds other requests up.
 * At --large a GET slower than STREAMING_GET_LIMIT_MS or RSS growth of STREAMING_RSS_LIMIT_MB
 * fails the benchmark (after its figures are printed).
 */
export async function streamDetail(
  engine: string,
  database: Awaited<ReturnType<typeof benchDatabase>>['database'],
  provider: Awaited<ReturnType<typeof benchDatabase>>['provider'],
  caller: ReturnType<typeof systemCaller>,
): Promise<StreamFigures> {
  const secrets = SecretBox.fromKey(Buffer.alloc(32, 7));
  const ctx = {
    // The read cache off: the probe's GETs must reach the database the stream is reading.
    config: { ...loadConfig(BENCH_ENV), port: 0, host: '127.0.0.1', cortexReadCache: false },
    database,
    db: database.db,
    secrets,
    logger: createLogger('silent'),
    provider,
  };
  const admin = await database.db
    .selectFrom('users')
    .select('id')
    .where('customer_id', '=', provider.id)
    .orderBy('id')
    .executeTakeFirstOrThrow();
  const { token } = await inTransaction(database.db, (tx) =>
    createApiToken(tx, caller, tokenSigningKey(secrets), { userId: admin.id, label: 'bench' }),
  );
  const app = await buildServer(ctx);
  await app.listen({ port: 0, host: '127.0.0.1' });
  const job: DetailClientJob = {
    port: (app.server.address() as { port: number }).port,
    detailPath: `/api/billing/${PERIOD_END}/detail`,
    token,
    getBody: `<?xml version="1.0" encoding="utf-8"?><request version="1.0" action="GET"><customer><id>${provider.id}</id></customer></request>`,
    basicAuth: 'Basic ' + Buffer.from(`admin:${BENCH_PASSWORD}`).toString('base64'),
    idleGets: IDLE_GETS,
    probe: false,
  };
  // First the download alone: its speed and what it costs the server's memory, with no other
  // request's garbage in the figure; then again beside CortexAPI GETs, for their latency.
  global.gc?.();
  const peak = peakRss();
  const rssBefore = peak.reset();
  const { rows, bytes, ms } = await runDetailClient(job);
  const rssGrowth = peak.read() - rssBefore;
  const copy = engine === 'postgres' ? copyBaseline(database.url!) : undefined;
  if (copy)
    console.log(
      `[postgres] baseline: COPY (the same rows, same joins) TO STDOUT through psql: ${copy.rows.toLocaleString('en-US')} rows in ${copy.ms} ms = ${rate(copy.rows, copy.ms)} → endpoint/COPY = ${ratio(rows / ms, copy.rows / copy.ms)} (target ≥ 0.30×)`,
    );
  console.log(
    `[${engine}] detail endpoint streaming ${rows.toLocaleString('en-US')} rows (${Math.round(bytes / 1e6)} MB JSON): ${ms} ms = ${rate(rows, ms)} rows; the server's peak RSS growth ${mb(rssGrowth)} MB (target < ${STREAMING_RSS_LIMIT_MB} MB for 1M rows, enforced at --large)`,
  );
  const beside = await runDetailClient({ ...job, probe: true });
  const [idle, busy] = [latency(beside.idleGets), latency(beside.busyGets)];
  console.log(
    `[${engine}] CortexAPI GET of a customer while it streamed again (${rate(beside.rows, beside.ms)} rows): ${busy.count} GETs, p50 ${busy.p50Ms} ms, max ${busy.maxMs} ms (started ${beside.slowestBusyGetAt}); idle server: ${idle.count} GETs, p50 ${idle.p50Ms} ms, max ${idle.maxMs} ms → p50 ${ratio(busy.p50Ms, idle.p50Ms)}, max ${ratio(busy.maxMs, idle.maxMs)} (target: max ≤ ${STREAMING_GET_LIMIT_MS} ms, enforced at --large)`,
  );
  await app.close();
  if (BENCH_SIZE === 'large' && busy.maxMs > STREAMING_GET_LIMIT_MS)
    throw new Error(
      `[${engine}] a CortexAPI GET took ${busy.maxMs} ms while the detail streamed ${rows.toLocaleString('en-US')} rows (limit ${STREAMING_GET_LIMIT_MS} ms)`,
    );
  if (BENCH_SIZE === 'large' && mb(rssGrowth) >= STREAMING_RSS_LIMIT_MB)
    throw new Error(
      `[${engine}] the server's RSS grew ${mb(rssGrowth)} MB while the detail streamed ${rows.toLocaleString('en-US')} rows (limit ${STREAMING_RSS_LIMIT_MB} MB)`,
    );
  return { rows, ms, rssGrowthMb: mb(rssGrowth), gets: busy };
}

/** GETs timed on the idle server before the stream starts: enough for a stable median. */
const IDLE_GETS = 30;

function latency(ms: number[]): GetLatency {
  const sorted = [...ms].sort((a, b) => a - b);
  return { count: ms.length, p50Ms: percentile(sorted, 50), maxMs: sorted.at(-1) ?? 0 };
}

const mb = (bytes: number) => Math.round(bytes / 1e6);

/**
 * This process's peak RSS since the last reset, from Linux's own high-water mark (VmHWM, reset by
 * writing 5 to clear_refs): exact, unlike sampling, which a busy event loop delays past the peak.
 */
function peakRss(): { reset: () => number; read: () => number } {
  const read = () => Number(/^VmHWM:\s+(\d+) kB/m.exec(fs.readFileSync('/proc/self/status', 'utf8'))![1]) * 1024;
  return {
    reset: () => (fs.writeFileSync('/proc/self/clear_refs', '5'), read()),
    read,
  };
}

/** Runs bench/detail-client.ts in a process of its own and returns what it measured. */
async function runDetailClient(job: DetailClientJob): Promise<DetailClientResult> {
  const client = fileURLToPath(new URL('./detail-client.ts', import.meta.url));
  const { stdout } = await promisify(execFile)(process.execPath, ['--import', 'tsx', client, JSON.stringify(job)], {
    maxBuffer: 16 * 1024 * 1024,
  });
  return JSON.parse(stdout) as DetailClientResult;
}

/**
 * What PostgreSQL itself streams: COPY of the detail's rows (the same joins and order, every column)
 * to psql, which throws them away. Undefined when psql is not installed.
 */
function copyBaseline(url: string): { rows: number; ms: number } | undefined {
  // \copy is psql's client-side COPY … TO STDOUT; it must be one line. psql writes the rows to /dev/null.
  const select = `select i.*, c.*, b.*, u.*, s.* from bill_items i join bill_periods p on p.id = i.bill_period_id and p.end_date = '${PERIOD_END}' join customers c on c.id = i.customer_id join customers b on b.id = i.bill_customer_id left join users u on u.id = i.user_id left join services s on s.id = i.service_id order by i.service_change_id, i.id`;
  const started = performance.now();
  const psql = spawnSync('psql', [withDefaultUser(url), '-X', '-c', `\\copy (${select}) to '/dev/null'`], { encoding: 'utf8' });
  const ms = Math.round(performance.now() - started);
  const copied = /^COPY (\d+)/m.exec(psql.stdout ?? '');
  if (psql.error || psql.status !== 0 || !copied) {
    console.log(`[postgres] COPY baseline not measured: ${psql.error?.message ?? psql.stderr.trim()}`);
    return undefined;
  }
  return { rows: Number(copied[1]), ms };
}
