import fc from 'fast-check';

/**
 * Mutations of the seed's example requests (test/fuzz/seed-requests.json, extracted from seed 002)
 * and of REST/console URLs. Each case is a list of edits, so a failing case prints as a readable
 * recipe and shrinks to the smallest edit list that still fails.
 */

/** Characters and fragments that broke parsers before: control characters, markup in odd places, encodings. */
const NASTY = [
  '\u0000',
  '\u0001',
  '\u0008',
  '\u000b',
  '\u001b',
  '\u007f',
  '\u00a0',
  '\ufeff',
  '\ufffe',
  '\uffff',
  '\ud800',
  '\udc00',
  '\u2028',
  '\u0085',
  '<',
  '>',
  '&',
  '"',
  "'",
  '/>',
  '</',
  '<a x="/>">',
  '<a/>',
  '<!--',
  '-->',
  '<![CDATA[',
  ']]>',
  '<?',
  '?>',
  '<?xml version="1.0"?>',
  '<!DOCTYPE r [<!ENTITY e "x">]>',
  '&#0;',
  '&#x1b;',
  '&#65;',
  '&#xD800;',
  '&amp;',
  '&lt;',
  '&nbsp;',
  '&e;',
  '%',
  '%00',
  '\r\n',
  'é',
  '😀',
  '<user/>',
  '<service/>',
  '<customer/>',
  '<name>SP</name>',
  '<id>1</id>',
  '<id>-1</id>',
  '<id>99999999999999999999</id>',
  'Unlimited',
  '9'.repeat(40),
  'action="DELETE"',
  'action="FIND"',
  'version="2.0"',
  ' xmlns="urn:x"',
  '<status>Provisioned</status>',
  '<status>bogus</status>',
  'true',
  'yes',
  '-1',
];

const fragment = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom(...NASTY) },
  { weight: 2, arbitrary: fc.string({ maxLength: 12 }) },
  { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 12 }) },
  { weight: 1, arbitrary: fc.tuple(fc.constantFrom(...NASTY), fc.integer({ min: 2, max: 400 })).map(([s, n]) => s.repeat(n)) },
);

export type Edit =
  | { insert: string; at: number }
  | { remove: number; at: number }
  | { repeat: number; times: number; at: number }
  | { truncate: number }
  | { replaceText: string; nth: number }
  | { nest: number; withAttribute: boolean }
  | { prefix: string }
  | { bytes: number[]; at: number };

const position = fc.double({ min: 0, max: 1, noNaN: true });

export const edit: fc.Arbitrary<Edit> = fc.oneof(
  { weight: 5, arbitrary: fc.record({ insert: fragment, at: position }) },
  { weight: 2, arbitrary: fc.record({ remove: fc.integer({ min: 1, max: 40 }), at: position }) },
  { weight: 2, arbitrary: fc.record({ repeat: fc.integer({ min: 1, max: 60 }), times: fc.integer({ min: 2, max: 3000 }), at: position }) },
  { weight: 1, arbitrary: fc.record({ truncate: position }) },
  { weight: 3, arbitrary: fc.record({ replaceText: fc.oneof(fragment, fc.string({ maxLength: 300 })), nth: fc.nat(40) }) },
  { weight: 1, arbitrary: fc.record({ nest: fc.integer({ min: 1, max: 5000 }), withAttribute: fc.boolean() }) },
  { weight: 1, arbitrary: fc.record({ prefix: fc.constantFrom(' ', '\n\n', '\ufeff', '\u00a0', 'x', '<?xml version="1.0"?>', '\r\n\t') }) },
  { weight: 1, arbitrary: fc.record({ bytes: fc.array(fc.integer({ min: 0, max: 255 }), { minLength: 1, maxLength: 6 }), at: position }) },
);

const index = (s: { length: number }, at: number) => Math.min(s.length, Math.floor(at * (s.length + 1)));

/** Applies the edits in order; byte edits turn the document into raw bytes (encoding errors). */
export function applyEdits(doc: string, edits: Edit[]): string | Buffer {
  let s = doc;
  let raw: Buffer | undefined;
  for (const e of edits) {
    if (raw) {
      if ('bytes' in e) raw = spliceBytes(raw, index(raw, e.at), e.bytes);
      continue;
    }
    if ('insert' in e) s = s.slice(0, index(s, e.at)) + e.insert + s.slice(index(s, e.at));
    else if ('remove' in e) s = s.slice(0, index(s, e.at)) + s.slice(index(s, e.at) + e.remove);
    else if ('repeat' in e) {
      const i = index(s, e.at);
      s = s.slice(0, i) + s.slice(i, i + e.repeat).repeat(e.times) + s.slice(i + e.repeat);
    } else if ('truncate' in e) s = s.slice(0, index(s, e.truncate));
    else if ('replaceText' in e) s = replaceNthText(s, e.nth, e.replaceText);
    else if ('nest' in e) {
      const open = e.withAttribute ? '<a x="/>">' : '<a>';
      s = s.replace(/(<request\b[^>]*>)/, `$1${open.repeat(e.nest)}${'</a>'.repeat(e.nest)}`);
    } else if ('prefix' in e) s = e.prefix + s;
    else if ('bytes' in e) raw = spliceBytes(Buffer.from(s), index(Buffer.from(s), e.at), e.bytes);
  }
  return raw ?? s;
}

function spliceBytes(buf: Buffer, at: number, bytes: number[]): Buffer {
  return Buffer.concat([buf.subarray(0, at), Buffer.from(bytes), buf.subarray(at)]);
}

/** Replaces the text of the nth element that has text (wrapping around). */
function replaceNthText(s: string, nth: number, text: string): string {
  const spans = [...s.matchAll(/>([^<>]+)</g)].filter((m) => m[1]!.trim() !== '');
  if (!spans.length) return s;
  const m = spans[nth % spans.length]!;
  const at = m.index! + 1;
  return s.slice(0, at) + text + s.slice(at + m[1]!.length);
}

/** %-encodes the UTF-8 bytes of any string (encodeURIComponent throws on a lone surrogate). */
const percentEncode = (s: string): string =>
  [...Buffer.from(s, 'utf8')]
    .map((b) => (/[A-Za-z0-9_.~-]/.test(String.fromCharCode(b)) ? String.fromCharCode(b) : `%${b.toString(16).padStart(2, '0')}`))
    .join('');

/** REST/console parameter values: the same nasty fragments, %-encoded or raw. */
const paramValue = fc.oneof(
  fc.constantFrom(
    '2024-05-31',
    '2024-02-29',
    '0000-00-00',
    '2024-13-45',
    'parameters',
    '',
    '%',
    '%25',
    '%00',
    '%C3%28',
    '%E0%A4%A',
    '..',
    '%2e%2e%2f',
    '9'.repeat(3000),
    '-1',
    '1e9',
    'NaN',
    'null',
    '[]',
  ),
  fragment.map(percentEncode),
  fc.string({ maxLength: 30 }).map(percentEncode),
);

const REST_PATHS = [
  '/api/billing/{v}',
  '/api/billing/{v}/detail',
  '/api/Billing/{v}',
  '/API/BILLING/{v}/DETAIL',
  '/api/Billing/parameters',
  '/api/billing/{v}/{v}',
];
const CONSOLE_PATHS = [
  '/api/console/jobs',
  '/api/console/jobs/{v}',
  '/api/console/jobs/{v}/runs',
  '/api/console/jobs/runs/{v}',
  '/api/console/jobs/runs/{v}/logs',
  '/api/console/jobs/schedule',
  '/api/console/tokens',
];
const QUERY_NAMES = [
  'customerId',
  'billable',
  'aggregateByCustomer',
  'serviceSearch',
  'userSearch',
  'format',
  'limit',
  'offset',
  'sort',
  'order',
  'search',
  'cron',
  'timeZone',
  'dryRun',
  '%00',
  '',
];

export const restUrl = fc
  .record({
    console: fc.boolean(),
    path: fc.nat(20),
    values: fc.array(paramValue, { minLength: 2, maxLength: 2 }),
    query: fc.array(fc.tuple(fc.constantFrom(...QUERY_NAMES), paramValue), { maxLength: 4 }),
  })
  .map(({ console, path, values, query }) => {
    const paths = console ? CONSOLE_PATHS : REST_PATHS;
    let i = 0;
    const p = paths[path % paths.length]!.replace(/\{v\}/g, () => values[i++ % values.length] || 'x');
    const q = query.map(([k, v]) => `${k}=${v}`).join('&');
    return { console, url: q ? `${p}?${q}` : p };
  });
