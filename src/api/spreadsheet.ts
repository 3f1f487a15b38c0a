/*
 * Spreadsheet downloads (console and External API): a frozen header row, an autofilter over the
 * columns, widths that fit the data, and date-times as real Excel dates with seconds (seed 003:
 * "download the data into spreadsheet format – then use Excel or similar to filter/review").
 */
import { PassThrough, type Readable } from 'node:stream';
import type ExcelJS from 'exceljs';

export type CellValue = string | number | boolean | Date | null;

export interface SheetColumn {
  header: string;
  /** Characters; dates get 20. */
  width?: number;
  kind?: 'text' | 'number' | 'date';
}

const DATE_FORMAT = 'yyyy-mm-dd hh:mm:ss';

function widthOf(c: SheetColumn): number {
  if (c.width) return c.width;
  if (c.kind === 'date') return 20;
  return Math.min(Math.max(c.header.length + 2, 10), 60);
}

function sheetOptions(columns: readonly SheetColumn[]): Partial<ExcelJS.AddWorksheetOptions> {
  return {
    views: [{ state: 'frozen', xSplit: 0, ySplit: 1 }],
    autoFilter: { from: { row: 1, column: 1 }, to: { row: 1, column: columns.length } },
  } as Partial<ExcelJS.AddWorksheetOptions>;
}

function defineColumns(sheet: ExcelJS.Worksheet, columns: readonly SheetColumn[]): void {
  sheet.columns = columns.map((c, i) => ({
    header: c.header,
    key: String(i),
    width: widthOf(c),
    ...(c.kind === 'date' ? { style: { numFmt: DATE_FORMAT } } : {}),
  }));
  sheet.getRow(1).font = { bold: true };
}

/** Guards text against spreadsheet formula injection, as the CSV writers do. */
function cell(v: CellValue): CellValue {
  return typeof v === 'string' && /^[=+\-@\t\r]/.test(v) ? `'${v}` : v;
}

/** exceljs takes about a second to load: only a request for a workbook pays for it, not every start. */
async function excel(): Promise<typeof ExcelJS> {
  return (await import('exceljs')).default;
}

/** A whole (bounded) table as one .xlsx file. */
export async function xlsxBuffer(
  sheetName: string,
  columns: readonly SheetColumn[],
  rows: Iterable<readonly CellValue[]>,
): Promise<Buffer> {
  const workbook = new (await excel()).Workbook();
  const sheet = workbook.addWorksheet(safeSheetName(sheetName), sheetOptions(columns));
  defineColumns(sheet, columns);
  for (const r of rows) sheet.addRow(r.map(cell));
  return Buffer.from(await workbook.xlsx.writeBuffer());
}

/**
 * A large table streamed: each row is committed (flushed) as it is read, so a 300k-row period
 * never sits in memory. `onError` hears a failure after the response has started.
 */
export function xlsxStream(
  sheetName: string,
  columns: readonly SheetColumn[],
  rows: AsyncIterable<readonly CellValue[]>,
  onError: (e: unknown) => void,
): Readable {
  const out = new PassThrough();
  void (async () => {
    const workbook = new (await excel()).stream.xlsx.WorkbookWriter({ stream: out, useSharedStrings: false, useStyles: true });
    const sheet = workbook.addWorksheet(safeSheetName(sheetName), sheetOptions(columns));
    defineColumns(sheet as unknown as ExcelJS.Worksheet, columns);
    for await (const r of rows) {
      sheet.addRow(r.map(cell)).commit();
      // The zip writer does not push back: wait when the client has not taken what was written.
      if (out.writableLength > out.writableHighWaterMark * 16) await new Promise((resolve) => out.once('drain', resolve));
    }
    sheet.commit();
    await workbook.commit();
  })().catch((e) => {
    onError(e);
    out.destroy(e as Error);
  });
  return out;
}

/** Excel's sheet names: at most 31 characters, none of : \ / ? * [ ]. */
function safeSheetName(name: string): string {
  return name.replace(/[:\\/?*[\]]/g, '-').slice(0, 31) || 'Sheet1';
}
