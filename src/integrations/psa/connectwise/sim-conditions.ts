/**
 * The simulator's parser and evaluator for `conditions` (psa-wire.md B.3): slash paths,
 * quoted strings, `[datetime]`, numbers, true/false/null, `= != < <= > >= contains like`,
 * and/or (case-insensitive) with parentheses. `and` binds tighter than `or`.
 */

export class ConditionsError extends Error {}

type Literal =
  | { kind: 'string'; value: string }
  | { kind: 'date'; value: number }
  | { kind: 'number'; value: number }
  | { kind: 'boolean'; value: boolean }
  | { kind: 'null' };

type Op = '=' | '!=' | '<' | '<=' | '>' | '>=' | 'contains' | 'like';

export type ConditionNode =
  { kind: 'and' | 'or'; left: ConditionNode; right: ConditionNode } | { kind: 'cmp'; path: string[]; op: Op; value: Literal };

type Token = { type: 'lparen' | 'rparen' } | { type: 'op'; op: Op } | { type: 'word'; text: string } | { type: 'literal'; value: Literal };

/** The rules the real server spells out when it rejects an expression (B.3). */
const LITERAL_RULES =
  'Strings must be surrounded by quotes, datetimes by square brackets, numbers must be digits, booleans must be true or false, and null is null.';

/** Parses an expression; throws ConditionsError with the literal rules on a malformed one. */
export function parseConditions(text: string): ConditionNode {
  const tokens = tokenize(text);
  let pos = 0;
  const peek = (): Token | undefined => tokens[pos];
  const isWord = (t: Token | undefined, w: string): boolean => t?.type === 'word' && t.text.toLowerCase() === w;

  const parseOr = (): ConditionNode => {
    let left = parseAnd();
    while (isWord(peek(), 'or')) {
      pos += 1;
      left = { kind: 'or', left, right: parseAnd() };
    }
    return left;
  };
  const parseAnd = (): ConditionNode => {
    let left = parsePrimary();
    while (isWord(peek(), 'and')) {
      pos += 1;
      left = { kind: 'and', left, right: parsePrimary() };
    }
    return left;
  };
  const parsePrimary = (): ConditionNode => {
    const token = tokens[pos++];
    if (token?.type === 'lparen') {
      const inner = parseOr();
      if (tokens[pos++]?.type !== 'rparen') throw new ConditionsError(`Missing closing parenthesis. ${LITERAL_RULES}`);
      return inner;
    }
    if (token?.type !== 'word') throw new ConditionsError(`Expected a field name. ${LITERAL_RULES}`);
    const opToken = tokens[pos++];
    const op: Op | undefined =
      opToken?.type === 'op' ? opToken.op : isWord(opToken, 'contains') ? 'contains' : isWord(opToken, 'like') ? 'like' : undefined;
    if (!op) throw new ConditionsError(`Expected an operator after ${token.text}. ${LITERAL_RULES}`);
    const valueToken = tokens[pos++];
    const value = valueToken?.type === 'literal' ? valueToken.value : wordLiteral(valueToken);
    if (!value) throw new ConditionsError(`Invalid value for ${token.text}. ${LITERAL_RULES}`);
    return { kind: 'cmp', path: token.text.split('/'), op, value };
  };

  const tree = parseOr();
  if (pos !== tokens.length) throw new ConditionsError(`Unexpected text in conditions. ${LITERAL_RULES}`);
  return tree;
}

/** Field names used at the root of each comparison, for unknown-field checks. */
export function rootFields(node: ConditionNode): string[] {
  return node.kind === 'cmp' ? [node.path[0]] : [...rootFields(node.left), ...rootFields(node.right)];
}

export function evaluate(node: ConditionNode, record: Record<string, unknown>): boolean {
  if (node.kind !== 'cmp') {
    return node.kind === 'and'
      ? evaluate(node.left, record) && evaluate(node.right, record)
      : evaluate(node.left, record) || evaluate(node.right, record);
  }
  return compare(readPath(record, node.path), node.op, node.value);
}

/** Reads a slash path without regard to case, through reference objects (`company/identifier`). */
export function readPath(record: unknown, path: readonly string[]): unknown {
  let current: unknown = record;
  for (const segment of path) {
    if (typeof current !== 'object' || current === null) return undefined;
    const obj = current as Record<string, unknown>;
    const key = Object.keys(obj).find((k) => k.toLowerCase() === segment.toLowerCase());
    current = key === undefined ? undefined : obj[key];
  }
  return current;
}

function compare(actual: unknown, op: Op, expected: Literal): boolean {
  if (expected.kind === 'null') {
    const isNull = actual === null || actual === undefined || actual === '';
    if (op === '=') return isNull;
    if (op === '!=') return !isNull;
    throw new ConditionsError(`null can only be compared with = or !=. ${LITERAL_RULES}`);
  }
  if (actual === null || actual === undefined) return op === '!=';
  if (op === 'contains') return String(actual).toLowerCase().includes(String(expected.value).toLowerCase());
  if (op === 'like') return likeToRegExp(String(expected.value)).test(String(actual));
  const order = ordering(actual, expected);
  switch (op) {
    case '=':
      return order === 0;
    case '!=':
      return order !== 0;
    case '<':
      return order < 0;
    case '<=':
      return order <= 0;
    case '>':
      return order > 0;
    case '>=':
      return order >= 0;
  }
}

// SQL Server collation: string comparisons ignore case.
function ordering(actual: unknown, expected: Exclude<Literal, { kind: 'null' }>): number {
  const sign = (n: number): number => (n === 0 ? 0 : n < 0 ? -1 : 1);
  switch (expected.kind) {
    case 'number':
      return sign(Number(actual) - expected.value);
    case 'date':
      return sign(Date.parse(String(actual)) - expected.value);
    case 'boolean':
      return actual === expected.value ? 0 : 1;
    case 'string':
      return String(actual).toLowerCase().localeCompare(expected.value.toLowerCase());
  }
}

function likeToRegExp(pattern: string): RegExp {
  const escaped = pattern.replace(/[.*+?^${}()|[\]\\]/g, '\\$&').replace(/%/g, '.*');
  return new RegExp(`^${escaped}$`, 'is');
}

function wordLiteral(token: Token | undefined): Literal | undefined {
  if (token?.type !== 'word') return undefined;
  const word = token.text.toLowerCase();
  if (word === 'true' || word === 'false') return { kind: 'boolean', value: word === 'true' };
  if (word === 'null') return { kind: 'null' };
  return undefined;
}

function tokenize(text: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < text.length) {
    const ch = text[i];
    if (/\s/.test(ch)) {
      i += 1;
    } else if (ch === '(' || ch === ')') {
      tokens.push({ type: ch === '(' ? 'lparen' : 'rparen' });
      i += 1;
    } else if (ch === '"' || ch === "'") {
      const end = text.indexOf(ch, i + 1);
      if (end === -1) throw new ConditionsError(`Unterminated string. ${LITERAL_RULES}`);
      tokens.push({ type: 'literal', value: { kind: 'string', value: text.slice(i + 1, end) } });
      i = end + 1;
    } else if (ch === '[') {
      const end = text.indexOf(']', i);
      const value = end === -1 ? NaN : Date.parse(text.slice(i + 1, end));
      if (Number.isNaN(value)) throw new ConditionsError(`Invalid datetime. ${LITERAL_RULES}`);
      tokens.push({ type: 'literal', value: { kind: 'date', value } });
      i = end + 1;
    } else {
      const op = /^(!=|<=|>=|=|<|>)/.exec(text.slice(i));
      const num = /^[-+]?\d+(\.\d+)?/.exec(text.slice(i));
      const word = /^[A-Za-z_][\w/]*/.exec(text.slice(i));
      if (op) tokens.push({ type: 'op', op: op[0] as Op });
      else if (num) tokens.push({ type: 'literal', value: { kind: 'number', value: Number(num[0]) } });
      else if (word) tokens.push({ type: 'word', text: word[0] });
      else throw new ConditionsError(`Unexpected character '${ch}'. ${LITERAL_RULES}`);
      i += (op ?? num ?? word)![0].length;
    }
  }
  return tokens;
}
