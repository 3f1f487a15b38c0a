import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cortexErrorId, cortexRequest, envelopeOf, openReliabilityApp, type ReliabilityApp } from './support.js';

let r: ReliabilityApp;
beforeAll(async () => {
  r = await openReliabilityApp({}, 3);
});
afterAll(async () => r.close());

const find = (inner: string) => cortexRequest('FIND', inner);
const FIND_SP = find('<customer><name>SP</name></customer>');
const deep = (open: string, close: string, n: number) => cortexRequest('FIND', `<customer>${open.repeat(n)}${close.repeat(n)}</customer>`);
const latin1 = Buffer.concat([
  Buffer.from('<?xml version="1.0" encoding="ISO-8859-1"?><request version="1.0" action="GET"><customer><name>Caf'),
  Buffer.from([0xe9]),
  Buffer.from('</name></customer></request>'),
]);
const utf16 = Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(FIND_SP.replace('utf-8', 'utf-16'), 'utf16le')]);

/** [case, body, expected error id (undefined = a normal answer), HTTP status] */
const CORTEX_CASES: [string, string | Buffer, number | undefined, number][] = [
  ['attribute holding "/>", nested 10,000 deep', deep('<a x="/>">', '</a>', 10_000), 3, 400],
  ['attribute holding "/>", nested 60,000 deep', deep('<a x="/>">', '</a>', 60_000), 3, 400],
  ["single-quoted attribute holding '>', nested 10,000 deep", deep("<a x='>'>", '</a>', 10_000), 3, 400],
  ['plain nesting 10,000 deep', deep('<a>', '</a>', 10_000), 3, 400],
  ['self-closing elements inside nesting 33 deep', deep('<a><b/>', '</a>', 33), 3, 400],
  ['a raw NUL in a FIND', find('<customer><name>S\u0000P</name></customer>'), 3, 400],
  ['a raw NUL in a SET', cortexRequest('SET', '<customer><name>X\u0000</name><fullname>x</fullname></customer>'), 3, 400],
  ['a raw NUL in a user element', cortexRequest('SET', '<customer><name>SP</name><user><name>a\u0000b</name></user></customer>'), 3, 400],
  ['a NUL between elements', `${FIND_SP}\u0000`, 3, 400],
  ['a NUL character reference', find('<customer><name>S&#0;P</name></customer>'), 3, 400],
  [
    'a hex control character reference',
    cortexRequest('SET', '<customer><name>SP</name><user><name>a&#x1b;b</name></user></customer>'),
    3,
    400,
  ],
  ['an escape control character', find('<customer><name>S\u001bP</name></customer>'), 3, 400],
  ['a control character in an attribute', '<request version="1\u0001.0" action="FIND"><customer/></request>', 3, 400],
  [
    'invalid UTF-8 bytes',
    Buffer.concat([Buffer.from(find('<customer><name>')), Buffer.from([0xc3, 0x28]), Buffer.from('</name></customer></request>')]),
    3,
    400,
  ],
  ['an unknown declared encoding', FIND_SP.replace('utf-8', 'x-klingon'), 3, 400],
  ['a truncated document', FIND_SP.slice(0, FIND_SP.length - 5), 3, 400],
  ['a document cut inside a tag', FIND_SP.slice(0, FIND_SP.indexOf('<name>') + 3), 3, 400],
  ['a document cut inside an attribute value', '<request version="1.0" action="FI', 3, 400],
  ['a document cut inside a comment', `${FIND_SP}<!-- x`, 3, 400],
  ['a document cut inside CDATA', find('<customer><name><![CDATA[SP'), 3, 400],
  ['a mangled XML declaration', FIND_SP.replace('?>', '>'), 3, 400],
  ['an XML declaration without its end', FIND_SP.replace('?>', ''), 3, 400],
  ['a non-breaking space inside the request tag', FIND_SP.replace('<request version', '<request\u00a0version'), 3, 400],
  ['a stray closing tag', `</x>${FIND_SP}`, 3, 400],
  ['two roots', `${FIND_SP}${FIND_SP.replace(/<\?xml[^>]*>/, '')}`, 3, 400],
  ['an overlong name (200,000 characters)', cortexRequest('GET', `<customer><name>${'n'.repeat(200_000)}</name></customer>`), 34, 400],
  ['an overlong unknown tag name', find(`<${'t'.repeat(100_000)}/>`), undefined, 200],
  // Accepted: whitespace before the declaration, non-breaking spaces between elements, other encodings.
  ['whitespace before the XML declaration', `\n\t  ${FIND_SP}`, undefined, 200],
  ['CR LF before the XML declaration (a Windows script)', `\r\n${FIND_SP}`, undefined, 200],
  // The declared encoding still counts after the whitespace: decoded as ISO-8859-1, the name is looked up (34), not refused (3).
  ['whitespace before an ISO-8859-1 declaration', Buffer.concat([Buffer.from(' \r\n\t'), latin1]), 34, 400],
  ['a UTF-8 byte-order mark', Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(FIND_SP)]), undefined, 200],
  [
    'non-breaking spaces between elements',
    FIND_SP.replace('>\n<customer>', '>\u00a0\u00a0<customer>').replace('>\n</request>', '>\u00a0</request>'),
    undefined,
    200,
  ],
  ['a non-breaking space before the root element', FIND_SP.replace('?>\n<request', '?>\u00a0<request'), 3, 400],
  ['ISO-8859-1 as declared', latin1, 34, 400],
  ['UTF-16 with a byte-order mark', utf16, undefined, 200],
];

describe('every malformed CortexAPI request is a 4xx with the documented error XML', () => {
  for (const [what, body, id, status] of CORTEX_CASES) {
    it(`${what} → ${status}${id === undefined ? '' : `, error ${id}`}`, async () => {
      const res = await r.cortex(body);
      expect({ status: res.statusCode, id: cortexErrorId(res) }, res.body.slice(0, 300)).toEqual({ status, id });
      expect(res.body).not.toMatch(/at .*\.(ts|js):\d+/);
    });
  }

  it('decodes ISO-8859-1 as declared (the name reaches the lookup intact)', async () => {
    const res = await r.cortex(latin1);
    expect(res.body).toContain('Customer \u2018Café\u2019 not found.'.replace(/[\u2018\u2019]/g, "'"));
  });
});

/** [case, url, expected HTTP status] */
const REST_CASES: [string, string, number][] = [
  ['a NUL in serviceSearch', '/api/billing/2024-05-31/detail?serviceSearch=a%00b', 400],
  ['a NUL in userSearch', '/api/billing/2024-05-31/detail?userSearch=%00', 400],
  ['a control character in userSearch', '/api/billing/2024-05-31/detail?userSearch=%1b', 400],
  ['"%" as the end date', '/api/billing/%25', 400],
  ['"%" as the end date of the detail', '/api/billing/%25/detail', 400],
  ['"%" as the end date, CSV', '/api/billing/%25/detail?format=csv', 400],
  ['"%" as the end date, Excel', '/api/billing/%25/detail?format=xlsx', 400],
  ['a raw "%" as the end date', '/api/billing/%', 400],
  ['a raw "%" as the end date of the detail', '/api/billing/%/detail', 400],
  ['a raw "%" in another spelling', '/API/Billing/%/detail?format=csv', 400],
  ['a NUL as the end date', '/api/billing/%00', 400],
  ['an overlong end date', `/api/billing/${'9'.repeat(5000)}`, 400],
  ['an overlong serviceSearch', `/api/billing/2024-05-31/detail?serviceSearch=${'s'.repeat(5000)}`, 400],
  // The query parser keeps an undecodable escape as literal text: a harmless search (here: no such period).
  ['bad UTF-8 in a query value', '/api/billing/2024-05-31/detail?userSearch=%C3%28', 404],
  ['a broken escape in a query value', '/api/billing/2024-05-31/detail?userSearch=%E0%A4%A', 404],
  ['a NUL in customerId', '/api/billing/2024-05-31?customerId=%00', 400],
];

describe('every malformed External API request is a 4xx in the envelope', () => {
  for (const [what, url, status] of REST_CASES) {
    it(`${what} → ${status}`, async () => {
      const res = await r.rest(url);
      expect(res.statusCode, res.body.slice(0, 300)).toBe(status);
      const env = envelopeOf(res);
      expect(env.success).toBe(false);
      expect(env.errorMessage).toBeTruthy();
    });
  }
});

describe('character references are decoded once, like any XML parser does', () => {
  it('a name spelled with decimal and hex references finds the customer (&#83;&#x50; is SP)', async () => {
    const res = await r.cortex(cortexRequest('GET', '<customer><name>&#83;&#x50;</name></customer>'));
    expect({ status: res.statusCode, id: cortexErrorId(res) }, res.body.slice(0, 300)).toEqual({ status: 200, id: undefined });
    expect(res.body).toMatch(/<name>SP<\/name>/);
  });

  it('a SET stores the characters the references stand for, not the reference text', async () => {
    const name = r.tenant.customer.name;
    const set = await r.cortex(
      cortexRequest('SET', `<customer><name>${name}</name><fullname>&#65;BC &#x1F600; &#38;#65; &amp; &nbsp;</fullname></customer>`),
    );
    expect({ status: set.statusCode, id: cortexErrorId(set) }, set.body.slice(0, 300)).toEqual({ status: 200, id: undefined });
    const get = await r.cortex(cortexRequest('GET', `<customer><name>${name}</name></customer>`));
    // One decoding pass: &#38;#65; is the text "&#65;"; HTML's &nbsp; is no XML entity and stays as sent.
    expect(get.body).toContain('<fullname>ABC \u{1F600} &amp;#65; &amp; &amp;nbsp;</fullname>');
  });

  it('a reference in an attribute is decoded too (action="&#70;IND" is FIND)', async () => {
    const res = await r.cortex('<request version="1.0" action="&#70;IND"><customer><name>SP</name></customer></request>');
    expect({ status: res.statusCode, id: cortexErrorId(res) }, res.body.slice(0, 300)).toEqual({ status: 200, id: undefined });
  });
});
