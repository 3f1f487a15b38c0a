import { XMLParser, XMLValidator, type EntityDecoderOptions } from 'fast-xml-parser';
import { DomainError } from '../../core/errors.js';
import { assertNoForbiddenChars, scanRequest, type RequestLimits } from './xml-scan.js';

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

/** Nesting a CortexAPI request never needs more than a few levels of; not a setting. */
export const MAX_DEPTH = 32;

const XML_ENTITIES: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };

/**
 * XML's own references, decoded once: character references (`&#65;`, `&#x41;`; the parser's default
 * leaves them as literal text) and the five predefined entities. Any other name (`&nbsp;`) stays as
 * sent, as in any XML parser without a DTD; references to forbidden characters never get here (scanRequest).
 */
function xmlReferences(): EntityDecoderOptions {
  const reference = /&(?:#x([0-9A-Fa-f]{1,8})|#([0-9]{1,10})|(amp|lt|gt|quot|apos));/g;
  return {
    setExternalEntities: () => {},
    addInputEntities: () => {},
    reset: () => {},
    setXmlVersion: () => {},
    decode: (text) =>
      text.includes('&')
        ? text.replace(reference, (_, hex: string | undefined, dec: string | undefined, name: string | undefined) =>
            name !== undefined ? XML_ENTITIES[name]! : String.fromCodePoint(hex !== undefined ? parseInt(hex, 16) : Number(dec)),
          )
        : text,
  };
}

const parser = new XMLParser({
  preserveOrder: true,
  ignoreAttributes: false,
  attributeNamePrefix: '',
  parseTagValue: false,
  parseAttributeValue: false,
  trimValues: true,
  ignoreDeclaration: true,
  ignorePiTags: true,
  entityDecoder: xmlReferences(),
});

const invalidXml = (message: string): DomainError => new DomainError('InvalidXmlFormat', message);

/**
 * Parses a request document. The CortexAPI has no use for a DTD, so any DOCTYPE or entity
 * declaration is refused before the parser sees it (no XXE, no entity expansion bombs); size,
 * nesting and forbidden characters are checked by one linear scan before any tree is built.
 * Whitespace before the XML declaration (common in hand-written files) is accepted.
 */
export function parseCortexRequest(raw: string, limits: Omit<RequestLimits, 'maxDepth'>): CortexRequest {
  const body = raw.trimStart();
  if (/<!DOCTYPE|<!ENTITY/i.test(body)) throw invalidXml('DTDs and entity declarations are not allowed in a request.');
  if (body.trim() === '') throw invalidXml('The request is empty.');
  scanRequest(body, { ...limits, maxDepth: MAX_DEPTH });
  const roots = toNodes(parseWellFormed(body));
  if (roots.length !== 1 || roots[0]!.tag !== 'request') throw invalidXml('The document must have a single <request> element.');
  const root = roots[0]!;
  const version = root.attrs.version;
  if (version === undefined || version.trim() === '') throw invalidXml('The request must have a version attribute ("1.0").');
  const action = root.attrs.action?.trim().toUpperCase();
  if (action === undefined || action === '')
    throw new DomainError('InvalidAction', 'The request must have an action attribute (FIND, GET, SET or DELETE).');
  if (!(CORTEX_ACTIONS as readonly string[]).includes(action)) {
    throw new DomainError('InvalidAction', `The action '${root.attrs.action}' is not valid: use FIND, GET, SET or DELETE.`);
  }
  return { action: action as CortexAction, version: version.trim(), entities: root.children };
}

/**
 * The validator and the parser disagree on a few malformed documents (a second declaration cut in
 * half, …) and then the parser throws its own errors: any failure here is the document's fault.
 */
function parseWellFormed(body: string): RawNode[] {
  let valid: ReturnType<typeof XMLValidator.validate>;
  try {
    valid = XMLValidator.validate(body);
    if (valid === true) return parser.parse(body) as RawNode[];
  } catch (e) {
    throw invalidXml(`The request is not well-formed XML: ${e instanceof Error ? e.message.split('\n')[0] : 'unreadable'}.`);
  }
  throw invalidXml(`The request is not well-formed XML: ${valid.err.msg} (line ${valid.err.line}).`);
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
    const attrs = item[':@'] ?? {};
    // Character references (&#0;) are decoded by the parser: check the values it produced too.
    assertNoForbiddenChars(text, `<${tag}>`);
    for (const v of Object.values(attrs)) assertNoForbiddenChars(String(v), `An attribute of <${tag}>`);
    out.push({ tag, attrs, text, children: toNodes(content) });
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
