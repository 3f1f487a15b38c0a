/*
 * The detail report written as it is read: JSON (the seed's envelope), CSV and Excel. Each
 * writer pulls rows from the chunked iterator only as fast as the client reads, so a
 * 300k-row period never sits in memory.
 */
import { Readable } from 'node:stream';
import { xlsxStream, type CellValue, type SheetColumn } from '../spreadsheet.js';
import { DETAIL_FIELDS, type BillingDetail, type DetailItem } from '../../billing/summary.js';

type WireValue = string | number | boolean | null;

/** A detail row with the seed's JSON types: decimals as numbers, dates as ISO strings. */
export function detailToWire(row: DetailItem): Record<string, WireValue> {
  const out: Record<string, WireValue> = {};
  for (const f of DETAIL_FIELDS) {
    const v = row[f];
    out[f] = v instanceof Date ? v.toISOString() : f === 'percentDuration' || f === 'quantity' ? Number(v) : (v as WireValue);
  }
  return out;
}

function headerJson(detail: BillingDetail): string {
  const h = detail.header;
  return `"billPeriodId":${h.billPeriodId},"periodName":${JSON.stringify(h.periodName)},"startDate":"${h.startDate.toISOString()}","endDate":"${h.endDate.toISOString()}"`;
}

/** `{"data":{"items":[…],"billPeriodId":…},"errorMessage":null,"success":true,"responseCode":200}`, streamed. */
export function detailJsonStream(detail: BillingDetail): Readable {
  return Readable.from(
    (async function* () {
      yield '{"data":{"items":[';
      yield* detail.json;
      yield `],${headerJson(detail)}},"errorMessage":null,"success":true,"responseCode":200}`;
    })(),
    { objectMode: false },
  );
}

export function csvCell(v: WireValue): string {
  if (v === null) return '';
  const s = String(v);
  // Quote when needed; a leading =, +, - or @ is prefixed so Excel does not run it as a formula.
  const safe = /^[=+\-@]/.test(s) && typeof v === 'string' ? `'${s}` : s;
  return /[",\r\n]/.test(safe) ? `"${safe.replace(/"/g, '""')}"` : safe;
}

export function detailCsvStream(detail: BillingDetail): Readable {
  return Readable.from(
    (async function* () {
      yield '\ufeff' + DETAIL_FIELDS.join(',') + '\r\n';
      let batch = '';
      for await (const row of detail.rows) {
        const wire = detailToWire(row);
        batch += DETAIL_FIELDS.map((f) => csvCell(wire[f]!)).join(',') + '\r\n';
        if (batch.length >= 64 * 1024) {
          yield batch;
          batch = '';
        }
      }
      yield batch;
    })(),
  );
}

const DATE_FIELDS = new Set<string>(['billPeriodStartDate', 'billPeriodEndDate', 'changeStartDate', 'changeEndDate', 'actionedDate']);
const NUMBER_FIELDS = new Set<string>(['percentDuration', 'quantity']);

/** The detail as .xlsx, streamed (frozen header, autofilter, widths, real date-times: see api/spreadsheet.ts). */
export function detailXlsxStream(detail: BillingDetail, onError: (e: unknown) => void): Readable {
  const columns: SheetColumn[] = DETAIL_FIELDS.map((f) => ({
    header: f,
    kind: DATE_FIELDS.has(f) ? 'date' : NUMBER_FIELDS.has(f) ? 'number' : 'text',
    ...(/Description|Name$|address|email|upn|summaryGrouping/i.test(f) ? { width: 30 } : {}),
  }));
  const rows = (async function* () {
    for await (const row of detail.rows) {
      yield DETAIL_FIELDS.map((f) => {
        const v = row[f];
        return NUMBER_FIELDS.has(f) ? Number(v) : (v as CellValue);
      });
    }
  })();
  return xlsxStream(detail.period.name, columns, rows, onError);
}
