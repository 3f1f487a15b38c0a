/*
 * Readers of the billing run's result, used by the External REST API and the PSA sync.
 * Quantities are exact decimal strings ("3", "2.5"); nothing here sums in JavaScript.
 */
import { setImmediate as turnOfTheEventLoop } from 'node:timers/promises';
import { sql, type RawBuilder } from 'kysely';
import type { Database, Executor } from '../core/db/database.js';
import type { CopyOut } from '../core/db/copy-out.js';
import { currentDeadline } from '../core/request-context.js';
import { customerNotFound } from '../core/errors.js';
import { customerInScopeSql, escapeLike, pathInScope, type Caller } from '../tenancy/caller.js';
import { billPeriods, ensurePeriods, findPeriodByEndDate, parseDateRef, periodNotFound, type BillPeriod } from './periods/bill-periods.js';

export { billPeriods, resolvePeriod, type BillPeriod } from './periods/bill-periods.js';

export interface SummaryQuery {
  /** Period end date, 'YYYY-MM-DD' (resolve 'Current'/'Previous' with resolvePeriod first). */
  endDate: string;
  /** Only this customer (must be in the caller's subtree). */
  customerId?: number;
  /** true: billable items only; false/absent: all items. */
  billable?: boolean;
  /** One row per (customer, SKU, billable) instead of per (customer, SKU, billable, line description). */
  aggregateByCustomer?: boolean;
}

export interface SummaryItem {
  customerId: number;
  customerCode: string;
  customerName: string;
  /** Atria exports the Billing Identifier as Customer Account Code; the account code when none is set. */
  customerAccountCode: string | null;
  billingId: string | null;
  /** The customer is deleted or de-provisioned: a PSA sync reduces its lines to zero (seed 003 AT20/AT21). */
  deprovisioned: boolean;
  sku: string | null;
  isBillable: boolean;
  /** The summary grouping (Atria "Summary Grouping"); several joined by '; ' when aggregated by customer. */
  lineDescription: string;
  /** Units active at the previous period's end. */
  previousPeriod: string;
  /** currentPeriod − previousPeriod. */
  change: string;
  /** Units active at this period's end (for the open period: as of the last billing run). */
  currentPeriod: string;
}

export interface BillingSummary {
  billPeriodId: number;
  periodName: string;
  /** First instant of the period. */
  startDate: Date;
  /** Last instant of the period (the millisecond before the next period starts). */
  endDate: Date;
  items: SummaryItem[];
}

/**
 * Summary per (customer, SKU, line): units active at the previous period's end, at this
 * period's end, and the change. A customer whose units dropped to zero in the period (a
 * removed service, a de-provisioned or deleted customer) still gets its rows, with
 * currentPeriod "0", so a PSA sync zeroes its contract lines (seed 003 AT13, AT20/AT21).
 */
export async function billingSummary(db: Executor, caller: Caller, q: SummaryQuery): Promise<BillingSummary> {
  const period = await getPeriodByEndDate(db, q.endDate);
  if (q.customerId !== undefined) await assertCustomerInScope(db, caller, q.customerId);
  const line = q.aggregateByCustomer
    ? sql<string>`string_agg(distinct i.summary_grouping, '; ' order by i.summary_grouping)`
    : sql<string>`i.summary_grouping`;
  const rows = await sql<SummaryItem>`
    select s.*, trim_scale(s.cur - s.prev)::text as "change", trim_scale(s.prev)::text as "previousPeriod", trim_scale(s.cur)::text as "currentPeriod"
    from (
      select i.customer_id as "customerId", c.name as "customerCode", c.fullname as "customerName",
             coalesce(nullif(c.billing_id, ''), c.account_code) as "customerAccountCode", c.billing_id as "billingId",
             (c.deleted_at is not null or c.status = 'NotProvisioned') as deprovisioned, i.sku, i.is_billable as "isBillable", ${line} as "lineDescription",
             coalesce(sum(i.quantity) filter (where i.started_at < ${period.startsAt}), 0) as prev,
             coalesce(sum(i.quantity) filter (where i.ended_at is null), 0) as cur
      from bill_items i join customers c on c.id = i.customer_id
      where i.bill_period_id = ${period.id} and ${customerInScopeSql(caller)}
        ${q.customerId !== undefined ? sql`and i.customer_id = ${q.customerId}` : sql``}
        ${q.billable ? sql`and i.is_billable` : sql``}
      group by i.customer_id, c.name, c.fullname, c.billing_id, c.account_code, c.deleted_at, c.status, i.sku, i.is_billable
               ${q.aggregateByCustomer ? sql`` : sql`, i.summary_grouping`}
    ) s
    where s.prev <> 0 or s.cur <> 0
    order by s."customerCode", s.sku nulls last, s."lineDescription", s."isBillable" desc`.execute(db);
  return {
    ...periodHeader(period),
    items: rows.rows.map((r) => {
      const { prev: _p, cur: _c, ...item } = r as SummaryItem & { prev: unknown; cur: unknown };
      return item;
    }),
  };
}

export function periodHeader(period: BillPeriod): { billPeriodId: number; periodName: string; startDate: Date; endDate: Date } {
  return { billPeriodId: period.id, periodName: period.name, startDate: period.startsAt, endDate: new Date(period.endsAt.getTime() - 1) };
}

/** A period by its exact end date; unknown dates are a NotFound naming the date. */
export async function getPeriodByEndDate(db: Executor, endDate: string): Promise<BillPeriod> {
  const date = parseDateRef(endDate);
  // Generating periods (two queries) is needed only for a date not on record yet, not on every API call.
  let period = await findPeriodByEndDate(db, date);
  if (!period) {
    await ensurePeriods(db);
    period = await findPeriodByEndDate(db, date);
  }
  if (!period) throw periodNotFound(date);
  return period;
}

/** The customer must be in the caller's subtree; deleted customers keep their billing history. */
async function assertCustomerInScope(db: Executor, caller: Caller, customerId: number): Promise<void> {
  const row = await db.selectFrom('customers').select('path').where('id', '=', customerId).executeTakeFirst();
  if (!row || !pathInScope(caller, row.path)) throw customerNotFound(String(customerId));
}

export interface BillingParameters {
  endDates: { label: string }[];
  customers: { id: number; name: string }[];
}

/** Period end dates and the customers in the caller's subtree (GET /api/Billing/parameters). */
export async function billingParameters(db: Executor, caller: Caller): Promise<BillingParameters> {
  const periods = await billPeriods(db);
  const customers = await sql<{ id: number; name: string }>`
    select c.id, c.fullname as name from customers c
    where ${customerInScopeSql(caller)} and (c.deleted_at is null or exists (select 1 from bill_items i where i.customer_id = c.id))
    order by lower(c.fullname), c.id`.execute(db);
  return { endDates: periods.map((p) => ({ label: p.endDate })), customers: customers.rows };
}

export interface DetailQuery {
  endDate: string;
  customerId?: number;
  /** Case-insensitive part of the service code or name. */
  serviceSearch?: string;
  /** Case-insensitive part of the user name, UPN or display name. */
  userSearch?: string;
  billable?: boolean;
  /** A page of the rows (the console's table); absent: every row. */
  page?: { offset: number; limit: number };
}

/** One bill item as the seed's detail example names it; dates as Date, decimals as strings. */
export interface DetailItem {
  billPeriodID: number;
  periodName: string;
  billPeriodStartDate: Date;
  billPeriodEndDate: Date;
  customerId: number;
  customerCode: string;
  customerName: string;
  customerAccountCode: string | null;
  address1: string | null;
  address2: string | null;
  country: string | null;
  postCode: string | null;
  email: string | null;
  billCustomerID: number;
  billCustomerCode: string;
  billCustomerName: string;
  billCustomerAccountCode: string | null;
  billAddress1: string | null;
  billAddress2: string | null;
  billCountry: string | null;
  billPostCode: string | null;
  billEmail: string | null;
  billItemID: number;
  serviceChangeID: number;
  userId: number | null;
  upn: string | null;
  userName: string | null;
  serviceId: number | null;
  serviceCode: string | null;
  serviceName: string | null;
  instanceName: string | null;
  sku: string | null;
  skuType: string;
  planCode: string | null;
  servicePlanName: string | null;
  lineDescription: string;
  summaryGrouping: string;
  percentDuration: string;
  isBillable: boolean;
  overrideReason: string | null;
  billConfigRuleID: number | null;
  changeStartDate: Date;
  changeEndDate: Date | null;
  quantity: string;
  action: string;
  addedByUserID: number | null;
  addedByUserName: string | null;
  removedByUserID: number | null;
  removedByUserName: string | null;
  department: string | null;
  location: string | null;
  actionedDate: Date;
  actionedBy: string | null;
  resultCount: number;
}

/** Column order of the detail (the seed's example order): CSV and Excel use it. */
export const DETAIL_FIELDS = [
  'billPeriodID',
  'periodName',
  'billPeriodStartDate',
  'billPeriodEndDate',
  'customerId',
  'customerCode',
  'customerName',
  'customerAccountCode',
  'address1',
  'address2',
  'country',
  'postCode',
  'email',
  'billCustomerID',
  'billCustomerCode',
  'billCustomerName',
  'billCustomerAccountCode',
  'billAddress1',
  'billAddress2',
  'billCountry',
  'billPostCode',
  'billEmail',
  'billItemID',
  'serviceChangeID',
  'userId',
  'upn',
  'userName',
  'serviceId',
  'serviceCode',
  'serviceName',
  'instanceName',
  'sku',
  'skuType',
  'planCode',
  'servicePlanName',
  'lineDescription',
  'summaryGrouping',
  'percentDuration',
  'isBillable',
  'overrideReason',
  'billConfigRuleID',
  'changeStartDate',
  'changeEndDate',
  'quantity',
  'action',
  'addedByUserID',
  'addedByUserName',
  'removedByUserID',
  'removedByUserName',
  'department',
  'location',
  'actionedDate',
  'actionedBy',
  'resultCount',
] as const satisfies readonly (keyof DetailItem)[];

export interface BillingDetail {
  period: BillPeriod;
  header: { billPeriodId: number; periodName: string; startDate: Date; endDate: Date };
  /** Rows matching the filters (all pages). */
  total: number;
  /** Rows in ledger order (serviceChangeID), read in chunks: never the whole period in memory. */
  rows: AsyncIterable<DetailItem>;
  /**
   * The same rows as the JSON array's content (`row,row,…`, without the brackets) in UTF-8 pieces
   * to write as they come: each row is the seed's JSON object (dates as ISO strings, decimals as
   * numbers, fields in DETAIL_FIELDS order) made by the database, so the endpoint's JSON answer
   * streams at close to the speed the database produces rows, instead of building and
   * stringifying 53 JavaScript values a row.
   */
  json: AsyncIterable<Buffer>;
}

/**
 * How a detail is read: `chunkSize` rows a statement, `countChunk` rows counted a statement
 * before the rows stream; on a server, the JSON through `copyOut` when it has a connection free.
 */
export interface DetailReading {
  chunkSize: number;
  countChunk: number;
  copyOut?: CopyOut | undefined;
}

/**
 * The embedded database runs each statement on this thread: 250-row chunks (about 10 ms each) and
 * 10,000-row counts, the event loop turning between them, so that a CortexAPI GET waits for one
 * short statement, not a run of them. A server reads 1,000 rows a statement, and streams the JSON
 * through COPY: rows read through the driver, even in small chunks, were promoted out of V8's
 * young generation often enough to grow the server's RSS by up to 165 MB over a million rows
 * (docs/decisions.md, issue 15).
 */
export function detailReadingFor(database: Pick<Database, 'engine' | 'copyOut'>): DetailReading {
  return database.engine === 'pglite'
    ? { chunkSize: 250, countChunk: 10_000 }
    : { chunkSize: 1000, countChunk: 50_000, copyOut: database.copyOut };
}

/**
 * The detail of a period (GET /api/billing/{enddate}/detail). Validation happens before this
 * returns; the rows are read when iterated, a chunk at a time by their key (serviceChangeID, then
 * billItemID), each chunk its own short statement with a turn of the event loop between chunks —
 * so on the embedded database, whose one session a cursor would hold for the whole download,
 * other requests run between chunks.
 */
export async function billingDetail(db: Executor, caller: Caller, q: DetailQuery, reading: DetailReading): Promise<BillingDetail> {
  const period = await getPeriodByEndDate(db, q.endDate);
  if (q.customerId !== undefined) await assertCustomerInScope(db, caller, q.customerId);
  const header = periodHeader(period);
  const like = (s: string) => `%${escapeLike(s.trim().toLowerCase())}%`;
  const from = sql`from bill_items i
    join customers c on c.id = i.customer_id
    join customers b on b.id = i.bill_customer_id
    left join users u on u.id = i.user_id
    left join services s on s.id = i.service_id
    where i.bill_period_id = ${period.id} and ${customerInScopeSql(caller)}
      ${q.customerId !== undefined ? sql`and i.customer_id = ${q.customerId}` : sql``}
      ${q.billable ? sql`and i.is_billable` : sql``}
      ${q.serviceSearch ? sql`and (lower(s.code) like ${like(q.serviceSearch)} or lower(s.fullname) like ${like(q.serviceSearch)})` : sql``}
      ${q.userSearch ? sql`and (lower(u.name) like ${like(q.userSearch)} or lower(u.upn) like ${like(q.userSearch)} or lower(coalesce(u.display_name, '')) like ${like(q.userSearch)})` : sql``}`;
  // Ledger order: chronological and fixed by the ledger alone (billItemIDs follow whatever order a
  // run's plan inserted in); one item per opening ledger row, and an index walk, no sort.
  const inKeyOrderAfter = (key: RowKey | undefined) =>
    sql`${key ? sql`and (i.service_change_id, i.id) > (${key.keyChange}, ${key.keyItem})` : sql``} order by i.service_change_id, i.id`;
  const resultCount = await countInChunks(db, from, inKeyOrderAfter, reading.countChunk);
  const deadline = currentDeadline();
  const select = (wire: boolean, after: RowKey | undefined, limit: RawBuilder<unknown>) => sql<DetailItem & RowKey>`
    select ${detailColumns(period, header, resultCount, wire)}, i.service_change_id as "keyChange", i.id as "keyItem"
    ${from} ${inKeyOrderAfter(after)} ${limit}`;
  const chunks = async function* (wire: boolean): AsyncGenerator<(DetailItem & RowKey)[]> {
    if (q.page) {
      yield (await select(wire, undefined, sql`limit ${q.page.limit} offset ${q.page.offset}`).execute(db)).rows;
      return;
    }
    for (let after: RowKey | undefined; ;) {
      const { rows } = await select(wire, after, sql`limit ${reading.chunkSize}`).execute(db);
      if (rows.length) yield rows;
      if (rows.length < reading.chunkSize) return;
      const last = rows.at(-1)!;
      after = { keyChange: last.keyChange, keyItem: last.keyItem };
      await turnOfTheEventLoop();
    }
  };
  return {
    period,
    header,
    total: resultCount,
    rows: {
      async *[Symbol.asyncIterator]() {
        for await (const chunk of chunks(false)) {
          for (const { keyChange: _c, keyItem: _i, ...row } of chunk) yield row;
        }
      },
    },
    json: {
      async *[Symbol.asyncIterator]() {
        const copied = q.page
          ? undefined
          : reading.copyOut?.(
              sql`select ${detailColumns(period, header, resultCount, true)} ${from} ${inKeyOrderAfter(undefined)}`.compile(db),
              COPY_JSON_TEXTS,
              deadline,
            );
        if (copied) {
          yield* commaJoined(copied);
          return;
        }
        let first = true;
        for await (const chunk of chunks(true)) {
          yield utf8Joined(
            chunk.map((row) => (row as unknown as { json: string }).json),
            !first,
          );
          first = false;
        }
      },
    },
  };
}

/**
 * Rows counted `chunk` at a time, each statement short: while there is a row `chunk` rows on,
 * its key is where the next statement starts; what is left after the last is counted.
 */
async function countInChunks(
  db: Executor,
  from: RawBuilder<unknown>,
  inKeyOrderAfter: (key: RowKey | undefined) => RawBuilder<unknown>,
  chunk: number,
): Promise<number> {
  let counted = 0;
  let key: RowKey | undefined;
  for (; ; counted += chunk) {
    const { rows } = await sql<RowKey>`select i.service_change_id as "keyChange", i.id as "keyItem"
      ${from} ${inKeyOrderAfter(key)} offset ${chunk - 1} limit 1`.execute(db);
    await turnOfTheEventLoop();
    if (!rows[0]) break;
    key = rows[0];
  }
  const rest = await sql<{ n: number }>`select count(*)::int as n from (select 1 ${from} ${inKeyOrderAfter(key)}) r`.execute(db);
  return counted + Number(rest.rows[0]?.n ?? 0);
}

/**
 * Row texts joined by commas into one UTF-8 buffer (with a leading comma when `more` follows an
 * earlier chunk): the strings die in the turn their chunk arrives, and the chunk waits to be
 * written outside the JS heap. (`join` would make one string of the whole chunk, too big for the
 * young generation.)
 */
function utf8Joined(texts: string[], more: boolean): Buffer {
  let size = Math.max(0, texts.length - (more ? 0 : 1));
  for (const text of texts) size += Buffer.byteLength(text);
  const joined = Buffer.allocUnsafeSlow(size);
  let at = 0;
  texts.forEach((text, i) => {
    if (i > 0 || more) at = joined.writeUInt8(COMMA, at);
    at += joined.write(text, at);
  });
  return joined;
}

const COMMA = 0x2c;
const NEWLINE = 0x0a;

/**
 * COPY's CSV format writes a one-column row exactly as it is, ended by a newline, unless the text
 * holds the delimiter, the quote, a carriage return or a newline. A JSON text from `row_to_json`
 * holds no control character (JSON escapes them all), so with two control characters as delimiter
 * and quote every row comes out as its JSON text and a newline, and every newline ends a row.
 */
const COPY_JSON_TEXTS = "(FORMAT csv, DELIMITER E'\\x01', QUOTE E'\\x02')";

/**
 * COPY's rows (`text\ntext\n`, in buffers that may end anywhere) as `text,text`: each row's
 * newline becomes a comma, and the last one is dropped. The buffers are the copy's own.
 */
async function* commaJoined(copied: AsyncIterable<Buffer>): AsyncGenerator<Buffer> {
  let owed = false;
  for await (const buffer of copied) {
    if (!buffer.length) continue;
    if (owed) yield Buffer.from([COMMA]);
    owed = buffer[buffer.length - 1] === NEWLINE;
    for (let at = buffer.indexOf(NEWLINE); at !== -1; at = buffer.indexOf(NEWLINE, at + 1)) buffer[at] = COMMA;
    yield owed ? buffer.subarray(0, -1) : buffer;
  }
}

/** Where a chunk of the detail ends: the next one starts after it. */
interface RowKey {
  keyChange: number;
  keyItem: number;
}

/**
 * The detail's columns in DETAIL_FIELDS order: as typed values, or (`wire`) as one JSON text
 * column `json` in the seed's wire types (ISO dates in UTC with milliseconds, decimals as numbers).
 */
function detailColumns(period: BillPeriod, header: BillingDetail['header'], resultCount: number, wire: boolean): RawBuilder<unknown> {
  const date = (e: RawBuilder<unknown>) => (wire ? sql`to_char(${e} at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')` : e);
  const decimal = (e: RawBuilder<unknown>) => (wire ? sql`trim_scale(${e})` : sql`trim_scale(${e})::text`);
  const columns = sql`
           ${period.id}::int as "billPeriodID", ${period.name}::text as "periodName",
           ${date(sql`${header.startDate}::timestamptz`)} as "billPeriodStartDate", ${date(sql`${header.endDate}::timestamptz`)} as "billPeriodEndDate",
           c.id as "customerId", c.name as "customerCode", c.fullname as "customerName",
           coalesce(nullif(c.billing_id, ''), c.account_code) as "customerAccountCode",
           c.address1, c.address2, c.country, c.postcode as "postCode", c.email,
           b.id as "billCustomerID", b.name as "billCustomerCode", b.fullname as "billCustomerName",
           coalesce(nullif(b.billing_id, ''), b.account_code) as "billCustomerAccountCode",
           b.address1 as "billAddress1", b.address2 as "billAddress2", b.country as "billCountry", b.postcode as "billPostCode", b.email as "billEmail",
           i.id as "billItemID", i.service_change_id as "serviceChangeID",
           i.user_id as "userId", u.upn, u.name as "userName",
           i.service_id as "serviceId", s.code as "serviceCode", s.fullname as "serviceName", i.instance_name as "instanceName",
           i.sku, i.sku_type as "skuType", i.plan_code as "planCode", i.plan_name as "servicePlanName",
           i.line_description as "lineDescription", i.summary_grouping as "summaryGrouping",
           ${decimal(sql`i.percent_duration`)} as "percentDuration", i.is_billable as "isBillable", i.override_reason as "overrideReason",
           i.bill_config_rule_id as "billConfigRuleID",
           ${date(sql`greatest(i.started_at, ${period.startsAt})`)} as "changeStartDate", ${date(sql`i.ended_at`)} as "changeEndDate",
           ${decimal(sql`i.quantity`)} as quantity, i.action,
           i.added_by_user_id as "addedByUserID", i.added_by_user_name as "addedByUserName",
           i.removed_by_user_id as "removedByUserID", i.removed_by_user_name as "removedByUserName",
           u.department, u.location, ${date(sql`i.actioned_at`)} as "actionedDate", i.actioned_by as "actionedBy",
           ${resultCount}::int as "resultCount"`;
  // row_to_json keeps the columns' order and names; ::text so the driver hands the text over unparsed.
  return wire ? sql`(select row_to_json(d)::text from (select ${columns}) d) as json` : columns;
}
