import type { FastifyInstance, FastifyReply } from 'fastify';
import type { AppContext } from '../../core/context.js';
import {
  billingDetail,
  billingParameters,
  billingSummary,
  billPeriods,
  detailReadingFor,
  type SummaryItem,
} from '../../billing/summary.js';
import { skuUnitsTrend, topChangedCustomers } from '../../billing/trends.js';
import { csvCell, detailCsvStream, detailToWire, detailXlsxStream } from '../rest/detail-formats.js';
import { xlsxBuffer, type SheetColumn } from '../spreadsheet.js';
import { consoleRouter } from './console-handler.js';
import { arrayOf, bool, dateTime, id, int, nullableDateTime, obj, offset, pageSize, shape, str } from './schemas.js';

const TAG = 'Console billing reports';
const PERMISSION = 'View Reports' as const;
const XLSX = 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet';

const endDate = {
  type: 'string',
  maxLength: 10,
  pattern: '^\\d{4}-\\d{2}-\\d{2}$',
  description: 'a period end date (YYYY-MM-DD) from GET /api/console/billing/periods',
};
const format = { type: 'string', enum: ['json', 'csv', 'xlsx'] };
const decimal = { type: 'string', description: 'exact decimal' };
const header = { billPeriodId: int(), periodName: str(), startDate: dateTime, endDate: dateTime };
const summaryItem = shape({
  customerId: int(),
  customerCode: str(),
  customerName: str(),
  customerAccountCode: { type: ['string', 'null'] },
  sku: { type: ['string', 'null'] },
  isBillable: bool,
  lineDescription: str(4000),
  previousPeriod: decimal,
  change: decimal,
  currentPeriod: decimal,
});

const SUMMARY_COLUMNS: { key: keyof SummaryItem; column: SheetColumn }[] = [
  { key: 'customerCode', column: { header: 'Customer Code', width: 16 } },
  { key: 'customerName', column: { header: 'Customer Name', width: 30 } },
  { key: 'customerAccountCode', column: { header: 'Customer Account Code', width: 20 } },
  { key: 'sku', column: { header: 'SKU', width: 18 } },
  { key: 'isBillable', column: { header: 'Billable', width: 10 } },
  { key: 'lineDescription', column: { header: 'Line Description', width: 50 } },
  { key: 'previousPeriod', column: { header: 'Previous Period', kind: 'number' } },
  { key: 'change', column: { header: 'Change', kind: 'number' } },
  { key: 'currentPeriod', column: { header: 'Current Period', kind: 'number' } },
];

/**
 * Reports > Billing: the periods to pick from, the summary per customer and SKU, the detail
 * (paged for the table, whole for downloads), and the charts' data. Every reader is scoped to the
 * caller's subtree by the billing module itself, so a reseller admin sees its subtree only.
 */
export function consoleBillingRoutes(app: FastifyInstance, ctx: AppContext): void {
  const route = consoleRouter(app, ctx);

  route(
    {
      method: 'GET',
      url: '/api/console/billing/periods',
      tag: TAG,
      permission: PERMISSION,
      summary: 'Bill periods (newest first, as /api/Billing/parameters lists their end dates) and the customers the caller may report on',
      response: {
        200: shape({
          periods: arrayOf(shape({ id: int(), name: str(), startDate: str(), endDate: str(), status: str(), lastRunAt: nullableDateTime })),
          customers: arrayOf(shape({ id: int(), name: str() }), 100000),
        }),
      },
    },
    async (auth) => {
      const [periods, parameters] = await Promise.all([billPeriods(ctx.db), billingParameters(ctx.db, auth.caller)]);
      return {
        periods: periods.reverse().map((p) => ({
          id: p.id,
          name: p.name,
          startDate: p.startDate,
          endDate: p.endDate,
          status: p.status,
          lastRunAt: p.lastRunAt?.toISOString() ?? null,
        })),
        customers: parameters.customers,
      };
    },
  );

  route(
    {
      method: 'GET',
      url: '/api/console/billing/summary',
      tag: TAG,
      permission: PERMISSION,
      summary: 'Summary per customer and SKU: previous period, change, current period (format=csv or xlsx downloads it)',
      querystring: obj({ endDate, customerId: id, billable: bool, aggregateByCustomer: bool, format }, ['endDate']),
      response: { 200: shape({ ...header, items: arrayOf(summaryItem, 100000) }) },
    },
    async (auth, req, reply) => {
      const q = req.query as { endDate: string; customerId?: number; billable?: boolean; aggregateByCustomer?: boolean; format?: string };
      const s = await billingSummary(ctx.db, auth.caller, q);
      const items = s.items.map(
        ({
          customerId,
          customerCode,
          customerName,
          customerAccountCode,
          sku,
          isBillable,
          lineDescription,
          previousPeriod,
          change,
          currentPeriod,
        }) => ({
          customerId,
          customerCode,
          customerName,
          customerAccountCode,
          sku,
          isBillable,
          lineDescription,
          previousPeriod,
          change,
          currentPeriod,
        }),
      );
      if (q.format === 'csv' || q.format === 'xlsx') return sendSummary(reply, q.endDate, q.format, s.items);
      return {
        billPeriodId: s.billPeriodId,
        periodName: s.periodName,
        startDate: s.startDate.toISOString(),
        endDate: s.endDate.toISOString(),
        items,
      };
    },
  );

  route(
    {
      method: 'GET',
      url: '/api/console/billing/detail',
      tag: TAG,
      permission: PERMISSION,
      summary: 'The detail (~50 fields per item, as /api/billing/{enddate}/detail): a page of it, or all of it as csv / xlsx',
      querystring: obj(
        {
          endDate,
          customerId: id,
          serviceSearch: str(200),
          userSearch: str(200),
          billable: bool,
          format,
          offset: offset(0),
          limit: pageSize(200),
        },
        ['endDate'],
      ),
      response: { 200: shape({ ...header, total: int(), offset: int(), limit: int(), items: arrayOf({ type: 'object' }, 1000) }) },
    },
    async (auth, req, reply) => {
      const q = req.query as {
        endDate: string;
        customerId?: number;
        serviceSearch?: string;
        userSearch?: string;
        billable?: boolean;
        format?: string;
        offset: number;
        limit: number;
      };
      const filters = {
        endDate: q.endDate,
        ...(q.customerId !== undefined ? { customerId: q.customerId } : {}),
        ...(q.serviceSearch?.trim() ? { serviceSearch: q.serviceSearch } : {}),
        ...(q.userSearch?.trim() ? { userSearch: q.userSearch } : {}),
        ...(q.billable !== undefined ? { billable: q.billable } : {}),
      };
      if (q.format === 'csv' || q.format === 'xlsx') {
        const detail = await billingDetail(ctx.db, auth.caller, filters, detailReadingFor(ctx.database));
        const file = `billing-detail-${detail.period.endDate}.${q.format}`;
        reply.header('Content-Disposition', `attachment; filename="${file}"`);
        if (q.format === 'csv') return reply.type('text/csv; charset=utf-8').send(detailCsvStream(detail));
        return reply.type(XLSX).send(detailXlsxStream(detail, (e) => req.log.error({ err: e }, 'billing detail xlsx failed')));
      }
      const detail = await billingDetail(
        ctx.db,
        auth.caller,
        { ...filters, page: { offset: q.offset, limit: q.limit } },
        detailReadingFor(ctx.database),
      );
      const items: Record<string, unknown>[] = [];
      for await (const row of detail.rows) items.push(detailToWire(row));
      const h = detail.header;
      return {
        billPeriodId: h.billPeriodId,
        periodName: h.periodName,
        startDate: h.startDate.toISOString(),
        endDate: h.endDate.toISOString(),
        total: detail.total,
        offset: q.offset,
        limit: q.limit,
        items,
      };
    },
  );

  route(
    {
      method: 'GET',
      url: '/api/console/billing/charts',
      tag: TAG,
      permission: PERMISSION,
      summary:
        'Chart data: units per SKU at the end of each of the last 12 periods, and the customers whose units changed most this period',
      querystring: obj({ endDate, billable: bool, periods: int({ minimum: 1, maximum: 36 }), top: int({ minimum: 1, maximum: 100 }) }, [
        'endDate',
      ]),
      response: {
        200: shape({
          periods: arrayOf(shape({ endDate: str(), periodName: str() })),
          skuUnits: arrayOf(shape({ endDate: str(), sku: { type: ['string', 'null'] }, units: decimal }), 100000),
          topChangedCustomers: arrayOf(
            shape({
              customerId: int(),
              customerCode: str(),
              customerName: str(),
              previousPeriod: decimal,
              currentPeriod: decimal,
              changed: decimal,
            }),
          ),
        }),
      },
    },
    async (auth, req) => {
      const q = req.query as { endDate: string; billable?: boolean; periods?: number; top?: number };
      const trend = await skuUnitsTrend(ctx.db, auth.caller, { endDate: q.endDate, count: q.periods ?? 12, billable: q.billable ?? false });
      const top = await topChangedCustomers(ctx.db, auth.caller, { endDate: q.endDate, limit: q.top ?? 10, billable: q.billable ?? false });
      return { periods: trend.periods, skuUnits: trend.points, topChangedCustomers: top };
    },
  );
}

async function sendSummary(reply: FastifyReply, endDate: string, format: 'csv' | 'xlsx', items: SummaryItem[]): Promise<FastifyReply> {
  reply.header('Content-Disposition', `attachment; filename="billing-summary-${endDate}.${format}"`);
  if (format === 'csv') {
    const lines = [SUMMARY_COLUMNS.map((c) => csvCell(c.column.header)).join(',')];
    for (const i of items) lines.push(SUMMARY_COLUMNS.map((c) => csvCell(i[c.key] as string | boolean | null)).join(','));
    return reply.type('text/csv; charset=utf-8').send('\ufeff' + lines.join('\r\n') + '\r\n');
  }
  const rows = items.map((i) =>
    SUMMARY_COLUMNS.map((c) => (c.column.kind === 'number' ? Number(i[c.key]) : (i[c.key] as string | boolean | null))),
  );
  return reply.type(XLSX).send(
    await xlsxBuffer(
      `Summary ${endDate}`,
      SUMMARY_COLUMNS.map((c) => c.column),
      rows,
    ),
  );
}
