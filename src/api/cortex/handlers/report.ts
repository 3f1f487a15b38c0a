import { DomainError } from '../../../core/errors.js';
import { findReports, runReport, type ReportResult, type ReportValue } from '../../../reports/report.service.js';
import type { ReportColumnType } from '../../../reports/schema.js';
import { el, type OutNode } from '../serialize.js';
import { child, children, parseBoolean, parseInteger, textOf, type XmlNode } from '../xml.js';
import type { EntityHandlers } from './types.js';

type Format = { kind: 'xml'; columnNames: boolean } | { kind: 'tsv'; header: boolean };

function formatOf(node: XmlNode): Format {
  const f = child(node, 'dataformat');
  if (!f) return { kind: 'xml', columnNames: true };
  const kind = f.text.toLowerCase();
  if (kind === 'tsv') return { kind: 'tsv', header: f.attrs.header !== undefined && parseBoolean(f.attrs.header, 'dataformat header') };
  if (kind === 'xml' || kind === '')
    return { kind: 'xml', columnNames: f.attrs.columnnames !== undefined && parseBoolean(f.attrs.columnnames, 'dataformat columnnames') };
  throw new DomainError('ReportError', `Unknown <dataformat> '${f.text}': use xml or tsv.`);
}

const pad = (n: number): string => String(n).padStart(2, '0');

/** .NET's en-US general date format, as the seed's TSV example prints dates (7/29/2012 8:36:22 PM). */
function usDate(d: Date): string {
  const h = d.getUTCHours() % 12 || 12;
  return `${d.getUTCMonth() + 1}/${d.getUTCDate()}/${d.getUTCFullYear()} ${h}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())} ${d.getUTCHours() < 12 ? 'AM' : 'PM'}`;
}

function valueText(v: ReportValue, type: ReportColumnType, tsv: boolean): string | null {
  if (v === null || v === undefined) return null;
  if (v instanceof Date) return tsv ? usDate(v) : v.toISOString().replace(/\.\d{3}Z$/, 'Z');
  if (typeof v === 'boolean' || type === 'bit') return v === true || v === 'true' || v === 1 ? 'True' : 'False';
  return String(v);
}

/** Column names become element names: anything XML would refuse becomes "_". */
const xmlName = (name: string): string => name.replace(/[^A-Za-z0-9_.-]/g, '_').replace(/^([^A-Za-z_])/, '_$1');

function resultToWire(result: ReportResult, format: Format): OutNode {
  const columns = result.columns.map((c) => el('column', c.name, { type: c.type }));
  if (format.kind === 'tsv') {
    const clean = (s: string | null) => (s ?? '').replace(/[\t\r\n]+/g, ' ');
    const lines = result.rows.map((row) => row.map((v, i) => clean(valueText(v, result.columns[i]!.type, true))).join('\t'));
    if (format.header) lines.unshift(result.columns.map((c) => c.name).join('\t'));
    return el('result', [...columns, { tag: 'data', text: `\n${lines.join('\n')}\n`, cdata: true }]);
  }
  const rows = result.rows.map((row) =>
    el(
      'row',
      row.map((v, i) => el(format.columnNames ? xmlName(result.columns[i]!.name) : 'value', valueText(v, result.columns[i]!.type, false))),
    ),
  );
  return el('result', [...columns, ...rows]);
}

/** Seed "Querying Data": FIND lists reports with their parameter names; GET runs one. */
export const reportHandlers: EntityHandlers = {
  FIND: async (node, cx) => {
    const reports = await findReports(cx.db, cx.caller, textOf(node, 'name') || undefined);
    return reports.map((r) =>
      el('report', [
        el('name', r.name),
        el('description', r.description),
        ...r.parameters.map((p) => el('parameter', null, { name: p.name })),
      ]),
    );
  },
  GET: async (node, cx) => {
    const name = textOf(node, 'name');
    if (!name) throw new DomainError('ReportNotFound', 'A report is selected by <name>.');
    const parameters = Object.fromEntries(children(node, 'parameter').map((p) => [p.attrs.name ?? '', p.text]));
    const timeout = textOf(node, 'timeout');
    const columns = children(node, 'column')
      .map((c) => c.text)
      .filter(Boolean);
    const result = await runReport(cx.db, cx.caller, {
      name,
      parameters,
      ...(timeout !== undefined && timeout !== '' ? { timeoutMs: parseInteger(timeout, 'timeout') } : {}),
      ...(columns.length ? { columns } : {}),
    });
    return [
      el('report', [el('name', result.report.name), el('description', result.report.description), resultToWire(result, formatOf(node))]),
    ];
  },
};
