import { XMLParser, XMLValidator } from 'fast-xml-parser';
import { DomainError } from '../../core/errors.js';

/** One element of a CortexAPI request: tag and attribute names exactly as sent (they are case-sensitive). */
export interface XmlNode {
  tag: string;
  attrs: Record<string, string>;
  /** Trimmed text content ('' for an empty element). */
  text: string;
  children: XmlNode[];
}

export const CORTEX_ACTIONS = ['FIND', 'GET', 'SET', 'DELETE'] as const;
export type CortexAction = (typeof CORTEX_ACTIONS)[number];

export interface CortexRequest {
  action: CortexAction;
  version: string;
  /** The entity elements inside <request> (customer, identity, location, …), in document order. */
  entities: XmlNode[];
}

export const MAX_DEPTH = 32;

const parser = new XMLParser({
  preserveOrder: true,
  ignoreAttributes: false,
  attributeNamePrefix: '',
  parseTagValue: false,
  parseAttributeValue: false,
  trimValues: true,
  ignoreDeclaration: true,
  ignorePiTags: true,
});

const invalidXml = (message: string): DomainError => new DomainError('InvalidXmlFormat', message);

/**
 * Parses a request document. The CortexAPI has no use for a DTD, so any DOCTYPE or entity
 * declaration is refused before the parser sees it (no XXE, no entity expansion bombs), and
 * nesting is capped before parsing so a hostile document cannot exhaust the stack.
 */
export function parseCortexRequest(body: string): CortexRequest {
  if (/<!DOCTYPE|<!ENTITY/i.test(body)) throw invalidXml('DTDs and entity declarations are not allowed in a request.');
  if (body.trim() === '') throw invalidXml('The request is empty.');
  assertDepth(body);
  const valid = XMLValidator.validate(body);
  if (valid !== true) throw invalidXml(`The request is not well-formed XML: ${valid.err.msg} (line ${valid.err.line}).`);
  const roots = toNodes(parser.parse(body) as RawNode[]);
  if (roots.length !== 1 || roots[0]!.tag !== 'request') throw invalidXml('The document must have a single <request> element.');
  const root = roots[0]!;
  const version = root.attrs.version;
  if (version === undefined || version.trim() === '') throw invalidXml('The request must have a version attribute ("1.0").');
  const action = root.attrs.action?.trim().toUpperCase();
  if (action === undefined || action === '') throw new DomainError('InvalidAction', 'The request must have an action attribute (FIND, GET, SET or DELETE).');
  if (!(CORTEX_ACTIONS as readonly string[]).includes(action)) {
    throw new DomainError('InvalidAction', `The action '${root.attrs.action}' is not valid: use FIND, GET, SET or DELETE.`);
  }
  return { action: action as CortexAction, version: version.trim(), entities: root.children };
}

/** Counts element nesting with a linear scan (comments and CDATA removed) before any tree is built. */
function assertDepth(body: string): void {
  const stripped = body.replace(/<!--[\s\S]*?-->/g, '').replace(/<!\[CDATA\[[\s\S]*?\]\]>/g, '');
  const tag = /<(\/?)[A-Za-z_][^>]*?(\/?)>/g;
  let depth = 0;
  for (let m = tag.exec(stripped); m; m = tag.exec(stripped)) {
    if (m[1]) depth--;
    else if (!m[2]) {
      depth++;
      if (depth > MAX_DEPTH) throw invalidXml(`The request is nested deeper than ${MAX_DEPTH} levels.`);
    }
  }
}

type RawNode = Record<string, unknown> & { ':@'?: Record<string, string> };

function toNodes(raw: RawNode[]): XmlNode[] {
  const out: XmlNode[] = [];
  for (const item of raw) {
    const tag = Object.keys(item).find((k) => k !== ':@');
    if (tag === undefined || tag === '#text') continue;
    const content = item[tag] as RawNode[];
    const text = content
      .filter((c) => '#text' in c)
      .map((c) => String(c['#text']))
      .join('')
      .trim();
    out.push({ tag, attrs: item[':@'] ?? {}, text, children: toNodes(content) });
  }
  return out;
}

/** The first child with exactly this tag (wrong-cased tags are ignored, as the seed says). */
export function child(node: XmlNode, tag: string): XmlNode | undefined {
  return node.children.find((c) => c.tag === tag);
}

export function children(node: XmlNode, tag: string): XmlNode[] {
  return node.children.filter((c) => c.tag === tag);
}

/** Text of a child element, or undefined when the element is absent. */
export function textOf(node: XmlNode, tag: string): string | undefined {
  return child(node, tag)?.text;
}

const TRUE_WORDS = new Set(['true', 'yes', '1', '-1']);
const FALSE_WORDS = new Set(['false', 'no', '0']);

/** Appendix A code 32: "true", "yes", "1", "-1", "0", "no" (any case) and "false". */
export function parseBoolean(value: string, what: string): boolean {
  const v = value.trim().toLowerCase();
  if (TRUE_WORDS.has(v)) return true;
  if (FALSE_WORDS.has(v)) return false;
  throw new DomainError('InvalidBoolean', `The value '${value}' of <${what}> is not a boolean (use true or false).`);
}

export function boolOf(node: XmlNode, tag: string): boolean | undefined {
  const v = textOf(node, tag);
  return v === undefined ? undefined : parseBoolean(v, tag);
}

export function parseInteger(value: string, what: string): number {
  const v = value.trim();
  if (!/^-?\d{1,9}$/.test(v)) throw new DomainError('InvalidInteger', `The value '${value}' of <${what}> is not an integer.`);
  return Number(v);
}

export function intOf(node: XmlNode, tag: string): number | undefined {
  const v = textOf(node, tag);
  return v === undefined || v === '' ? undefined : parseInteger(v, tag);
}

/** A limit: a whole number, or "Unlimited" (null). Appendix A code 7 otherwise. */
export function parseLimit(value: string, what: string): number | null {
  const v = value.trim();
  if (v.toLowerCase() === 'unlimited') return null;
  if (!/^\d{1,9}$/.test(v)) throw new DomainError('InvalidUnlimited', `The value '${value}' of <${what}> must be a number or 'Unlimited'.`);
  return Number(v);
}
