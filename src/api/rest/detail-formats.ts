/*
 * The detail report written as it is read: JSON (the seed's envelope), CSV and Excel. Each
 * writer pulls rows from the cursor-backed iterator only as fast as the client reads, so a
 * 300k-row period never sits in memory.
 */
import { PassThrough, Readable } from 'node:stream';
import ExcelJS from 'exceljs';
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
      let first = true;
      let batch = '';
      for await (const row of detail.rows) {
        batch += (first ? '' : ',') + JSON.stringify(detailToWire(row));
        first = false;
        if (batch.length >= 64 * 1024) {
          yield batch;
          batch = '';
        }
      }
      yield `${batch}],${headerJson(detail)}},"errorMessage":null,"success":true,"responseCode":200}`;
    })(),
    { objectMode: false },
  );
}

function csvCell(v: WireValue): string {
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

/** An .xlsx workbook written with exceljs's streaming writer: each row is committed (flushed) as it is read. */
export function detailXlsxStream(detail: BillingDetail, onError: (e: unknown) => void): Readable {
  const out = new PassThrough();
  const workbook = new ExcelJS.stream.xlsx.WorkbookWriter({ stream: out, useSharedStrings: false, useStyles: false });
  const sheet = workbook.addWorksheet(detail.period.name.slice(0, 31));
  sheet.columns = DETAIL_FIELDS.map((f) => ({ header: f, key: f }));
  void (async () => {
    for await (const row of detail.rows) {
      const values = DETAIL_FIELDS.map((f) => {
        const v = row[f];
        return f === 'percentDuration' || f === 'quantity' ? Number(v) : v;
      });
      sheet.addRow(values).commit();
      // The zip writer does not push back: wait when the client has not taken what was written.
      if (out.writableLength > out.writableHighWaterMark * 16) await new Promise((r) => out.once('drain', r));
    }
    sheet.commit();
    await workbook.commit();
  })().catch((e) => {
    onError(e);
    out.destroy(e as Error);
  });
  return out;
}
