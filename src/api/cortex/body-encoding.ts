import { DomainError } from '../../core/errors.js';

const invalidXml = (message: string): DomainError => new DomainError('InvalidXmlFormat', message);

const BOMS: { bytes: number[]; encoding: string }[] = [
  { bytes: [0xef, 0xbb, 0xbf], encoding: 'utf-8' },
  { bytes: [0xff, 0xfe], encoding: 'utf-16le' },
  { bytes: [0xfe, 0xff], encoding: 'utf-16be' },
];

/**
 * Decodes a request body as XML says to: a byte-order mark first, then the encoding named in the
 * XML declaration, else UTF-8. Decoding is strict, so a byte sequence that is not valid in the
 * encoding is the client's error (InvalidXmlFormat), never a replacement character stored in a name.
 */
export function decodeXmlBody(body: Buffer): string {
  const bom = BOMS.find((b) => b.bytes.every((byte, i) => body[i] === byte));
  const encoding = bom?.encoding ?? declaredEncoding(body) ?? 'utf-8';
  let decoder: TextDecoder;
  try {
    decoder = new TextDecoder(encoding, { fatal: true });
  } catch {
    throw invalidXml(`The request's encoding '${encoding}' is not supported; send UTF-8.`);
  }
  try {
    return decoder.decode(body);
  } catch {
    throw invalidXml(`The request is not valid ${encoding.toUpperCase()} text.`);
  }
}

/** The encoding pseudo-attribute of a leading `<?xml … ?>` (read as ASCII: every label is ASCII). */
function declaredEncoding(body: Buffer): string | undefined {
  const head = body.subarray(0, 200).toString('latin1').trimStart();
  const decl = /^<\?xml\s[^?]*?encoding\s*=\s*["']([A-Za-z0-9._-]{1,40})["']/.exec(head);
  return decl?.[1]?.toLowerCase();
}
