import { DomainError } from '../../core/errors.js';

/** How much structure one CortexAPI request may carry; checked before any tree is built. */
export interface RequestLimits {
  /** Elements in the whole document. */
  maxElements: number;
  /** Child elements of any one element (e.g. `<user>`s inside a `<customer>`). */
  maxChildren: number;
  /** Element nesting. */
  maxDepth: number;
}

const invalidXml = (message: string): DomainError => new DomainError('InvalidXmlFormat', message);
const overLimit = (message: string): DomainError => new DomainError('LimitExceeded', message);

/**
 * Characters XML 1.0 forbids anywhere in a document (C0 controls other than tab, LF and CR; the
 * non-characters U+FFFE/U+FFFF; lone surrogates). PostgreSQL refuses NUL in text, so letting one
 * through would turn a client's mistake into a server error.
 */
const FORBIDDEN_CHAR =
  /[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

export function assertNoForbiddenChars(text: string, where: string): void {
  const m = FORBIDDEN_CHAR.exec(text);
  if (m) {
    const code = m[0].charCodeAt(0).toString(16).toUpperCase().padStart(4, '0');
    throw invalidXml(`${where} contains the character U+${code}, which XML does not allow.`);
  }
}

/**
 * One linear pass over the document, aware of comments, CDATA, processing instructions and quoted
 * attribute values (so `<a x="/>">` is an open tag, not an empty one): counts elements, children per
 * element and depth, and refuses truncated documents. Work and memory are O(depth), so a hostile
 * document is refused before the parser spends anything on it.
 */
export function scanRequest(body: string, limits: RequestLimits): void {
  assertNoForbiddenChars(body, 'The request');
  assertNoForbiddenReferences(body);
  const childCounts: number[] = [0];
  let elements = 0;
  let i = body.indexOf('<');
  while (i !== -1) {
    if (body.startsWith('<!--', i)) i = skipPast(body, i + 4, '-->', 'a comment');
    else if (body.startsWith('<![CDATA[', i)) i = skipPast(body, i + 9, ']]>', 'a CDATA section');
    else if (body.startsWith('<?', i)) i = skipPast(body, i + 2, '?>', 'a processing instruction');
    else if (body.startsWith('<!', i)) throw invalidXml('DTDs and entity declarations are not allowed in a request.');
    else if (body[i + 1] === '/') {
      i = skipPast(body, i + 2, '>', 'a closing tag');
      if (childCounts.length === 1) throw invalidXml('The request has a closing tag without an opening tag.');
      childCounts.pop();
    } else {
      const { end, selfClosing } = endOfOpenTag(body, i + 1);
      i = end;
      if (++elements > limits.maxElements) throw overLimit(`The request has more than ${limits.maxElements} elements.`);
      if (++childCounts[childCounts.length - 1]! > limits.maxChildren) {
        throw overLimit(`An element of the request has more than ${limits.maxChildren} child elements.`);
      }
      if (!selfClosing) {
        childCounts.push(0);
        if (childCounts.length - 1 > limits.maxDepth) throw invalidXml(`The request is nested deeper than ${limits.maxDepth} levels.`);
      }
    }
    i = body.indexOf('<', i);
  }
  if (childCounts.length > 1) throw invalidXml('The request ends before all its elements are closed (truncated?).');
}

/** `&#0;`, `&#x1B;`: a character reference to a character XML forbids is as malformed as the character. */
function assertNoForbiddenReferences(body: string): void {
  const ref = /&#(x[0-9A-Fa-f]{1,8}|[0-9]{1,10});/g;
  for (let m = ref.exec(body); m; m = ref.exec(body)) {
    const digits = m[1]!;
    const code = digits[0] === 'x' ? parseInt(digits.slice(1), 16) : Number(digits);
    const allowed =
      code === 0x9 ||
      code === 0xa ||
      code === 0xd ||
      (code >= 0x20 && code <= 0xd7ff) ||
      (code >= 0xe000 && code <= 0xfffd) ||
      (code >= 0x10000 && code <= 0x10ffff);
    if (!allowed) throw invalidXml(`The request contains the character reference ${m[0]}, which XML does not allow.`);
  }
}

function skipPast(body: string, from: number, terminator: string, what: string): number {
  const at = body.indexOf(terminator, from);
  if (at === -1) throw invalidXml(`The request ends inside ${what} (truncated?).`);
  return at + terminator.length;
}

/** From just after `<`: the index after the tag's `>`, skipping `>` inside quoted attribute values. */
function endOfOpenTag(body: string, from: number): { end: number; selfClosing: boolean } {
  let quote: string | undefined;
  for (let j = from; j < body.length; j++) {
    const c = body[j];
    if (quote !== undefined) {
      if (c === quote) quote = undefined;
    } else if (c === '"' || c === "'") quote = c;
    else if (c === '>') return { end: j + 1, selfClosing: body[j - 1] === '/' };
    else if (c === '<') throw invalidXml('The request has a "<" inside a tag.');
  }
  throw invalidXml('The request ends inside a tag (truncated?).');
}
