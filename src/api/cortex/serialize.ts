import { AsyncLocalStorage } from 'node:async_hooks';
import { DomainError } from '../../core/errors.js';

/** An element of a CortexAPI response. */
export interface OutNode {
  tag: string;
  attrs?: Record<string, string>;
  text?: string;
  /** Write the text as a CDATA section (seed: a TSV report's <data>). */
  cdata?: boolean;
  children?: OutNode[];
}

export const XML_DECLARATION = '<?xml version="1.0" encoding="utf-8"?>';

/** The most a single answer may hold; exceeding either refuses the request with LimitExceeded. */
export interface ResponseLimits {
  maxElements: number;
  maxBytes: number;
}

const budget = new AsyncLocalStorage<{ limits: ResponseLimits; elements: number }>();

const tooLarge = (limits: ResponseLimits, what: string): DomainError =>
  new DomainError(
    'LimitExceeded',
    `The answer would have more than ${what}; ask for less (fewer or narrower selectors, a parent, a status filter).`,
    { maxElements: limits.maxElements, maxBytes: limits.maxBytes },
  );

/**
 * Runs `fn` with a response budget: every element built for the answer (anywhere in the handlers)
 * is counted as it is created, so a request whose answer would not fit is refused while its memory
 * is still small, instead of after the whole tree exists.
 */
export function withResponseLimits<T>(limits: ResponseLimits, fn: () => Promise<T>): Promise<T> {
  return budget.run({ limits, elements: 0 }, fn);
}

function charge(): void {
  const b = budget.getStore();
  if (b && ++b.elements > b.limits.maxElements) throw tooLarge(b.limits, `${b.limits.maxElements} elements`);
}

/** `el('name', 'BAC')`, `el('customer', [..])`; null/undefined text renders an empty element (`<billingid />`). */
export function el(tag: string, content?: string | number | boolean | null | OutNode[], attrs?: Record<string, string>): OutNode {
  charge();
  if (Array.isArray(content)) return { tag, children: content, ...(attrs ? { attrs } : {}) };
  const text =
    content === null || content === undefined ? undefined : typeof content === 'boolean' ? (content ? 'True' : 'False') : String(content);
  return { tag, ...(text !== undefined ? { text } : {}), ...(attrs ? { attrs } : {}) };
}

/** A limit as the seed writes it: a number, or "Unlimited" for none. */
export const limitText = (limit: number | null): string => (limit === null ? 'Unlimited' : String(limit));

/** Renders an answer; with `limits`, refuses (LimitExceeded) as soon as the text would pass maxBytes. */
export function renderResponse(nodes: OutNode[], limits?: ResponseLimits): string {
  if (nodes.length === 0) return `${XML_DECLARATION}\n<response version="1.0" />\n`;
  const lines = new Lines(limits);
  lines.push(XML_DECLARATION);
  lines.push('<response version="1.0">');
  for (const n of nodes) write(n, 1, lines);
  lines.push('</response>');
  lines.push('');
  return lines.parts.join('\n');
}

/** The answer's lines, with a running size in UTF-8 bytes. */
class Lines {
  readonly parts: string[] = [];
  private bytes = 0;
  constructor(private readonly limits: ResponseLimits | undefined) {}

  push(line: string): void {
    this.bytes += Buffer.byteLength(line) + 1;
    if (this.limits && this.bytes > this.limits.maxBytes) throw tooLarge(this.limits, `${this.limits.maxBytes} bytes`);
    this.parts.push(line);
  }
}

export function renderError(code: number, message: string): string {
  return renderResponse([el('error', [el('id', code), el('message', message)])]);
}

function write(node: OutNode, depth: number, lines: Lines): void {
  const pad = '  '.repeat(depth);
  const open = node.tag + attrText(node.attrs);
  if (node.children && node.children.length) {
    lines.push(`${pad}<${open}>`);
    for (const c of node.children) write(c, depth + 1, lines);
    lines.push(`${pad}</${node.tag}>`);
  } else if (node.cdata && node.text !== undefined) {
    lines.push(`${pad}<${open}><![CDATA[${node.text.replace(/]]>/g, ']]]]><![CDATA[>')}]]></${node.tag}>`);
  } else if (node.text !== undefined && node.text !== '') {
    lines.push(`${pad}<${open}>${escapeText(node.text)}</${node.tag}>`);
  } else {
    lines.push(`${pad}<${open} />`);
  }
}

function attrText(attrs: Record<string, string> | undefined): string {
  if (!attrs) return '';
  return Object.entries(attrs)
    .map(([k, v]) => ` ${k}="${escapeText(v).replace(/"/g, '&quot;')}"`)
    .join('');
}

export function escapeText(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}
