/**
 * Customer short code from a full name, as Atria generates it: the initials of the words
 * ("Basic API Customer" → "BAC"); a single word gives its first three letters.
 */
export function shortCodeFromFullname(fullname: string): string {
  const words = fullname
    .normalize('NFKD')
    .replace(/[^A-Za-z0-9 ]+/g, ' ')
    .split(/\s+/)
    .filter(Boolean);
  if (words.length === 0) return 'CUST';
  const code =
    words.length === 1
      ? words[0]!.slice(0, 3)
      : words
          .map((w) => w[0])
          .join('')
          .slice(0, 8);
  return code.toUpperCase();
}

/** First of code, code1, code2, … that `taken` does not contain (case-insensitive). */
export function firstFreeCode(code: string, taken: Iterable<string>): string {
  const used = new Set([...taken].map((t) => t.toLowerCase()));
  if (!used.has(code.toLowerCase())) return code;
  for (let i = 1; ; i++) if (!used.has(`${code}${i}`.toLowerCase())) return `${code}${i}`;
}

export const SHORT_CODE_PATTERN = /^[A-Za-z0-9][A-Za-z0-9-]{0,31}$/;
