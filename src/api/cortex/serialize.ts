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

/** `el('name', 'BAC')`, `el('customer', [..])`; null/undefined text renders an empty element (`<billingid />`). */
export function el(tag: string, content?: string | number | boolean | null | OutNode[], attrs?: Record<string, string>): OutNode {
  if (Array.isArray(content)) return { tag, children: content, ...(attrs ? { attrs } : {}) };
  const text = content === null || content === undefined ? undefined : typeof content === 'boolean' ? (content ? 'True' : 'False') : String(content);
  return { tag, ...(text !== undefined ? { text } : {}), ...(attrs ? { attrs } : {}) };
}

/** A limit as the seed writes it: a number, or "Unlimited" for none. */
export const limitText = (limit: number | null): string => (limit === null ? 'Unlimited' : String(limit));

export function renderResponse(nodes: OutNode[]): string {
  if (nodes.length === 0) return `${XML_DECLARATION}\n<response version="1.0" />\n`;
  const lines: string[] = [XML_DECLARATION, '<response version="1.0">'];
  for (const n of nodes) write(n, 1, lines);
  lines.push('</response>', '');
  return lines.join('\n');
}

export function renderError(code: number, message: string): string {
  return renderResponse([el('error', [el('id', code), el('message', message)])]);
}

function write(node: OutNode, depth: number, lines: string[]): void {
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
