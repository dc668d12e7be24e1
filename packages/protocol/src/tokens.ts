import { z } from 'zod';
import { type Result, fail, ok } from './failures';
import { quote } from './quote';

const SPACE = 0x20;
const TAB = 0x09;

/** Tokens are separated by runs of spaces or tabs; leading and trailing ones are ignored. */
export function tokenize(line: string): string[] {
  // Every request passes here: one scan and a slice per word, about three times faster than
  // `split` (which also needs a second look for the runs of blanks it leaves as empty words).
  const words: string[] = [];
  let start = -1;
  for (let i = 0; i < line.length; i++) {
    const c = line.charCodeAt(i);
    if (c === SPACE || c === TAB) {
      if (start >= 0) words.push(line.slice(start, i));
      start = -1;
    } else if (start < 0) {
      start = i;
    }
  }
  if (start >= 0) words.push(start === 0 ? line : line.slice(start));
  return words;
}

/** `tokenize(line)[0]`, without splitting the rest of the line ('' for a blank line). */
export function firstWord(line: string): string {
  let start = 0;
  while (start < line.length && (line.charCodeAt(start) === SPACE || line.charCodeAt(start) === TAB)) start++;
  let end = start;
  while (end < line.length && line.charCodeAt(end) !== SPACE && line.charCodeAt(end) !== TAB) end++;
  return end === line.length && start === 0 ? line : line.slice(start, end);
}

export const MAX_UNIT_LENGTH = 32;

const UNIT_CHARACTERS = /^[^\p{C}\p{Z}]+$/u;

/** A unit symbol: case-sensitive, printable, no spaces (`ft`, `$`, `lbs`, `µm`). */
export const UnitSchema = z.string().min(1).max(MAX_UNIT_LENGTH).regex(UNIT_CHARACTERS);

/**
 * `UnitSchema`'s test without building a zod result: for hot paths (a registry validates the
 * pair of every add and every restored row). Same rules, from the same constants.
 */
export function isUnit(value: unknown): value is Unit {
  if (typeof value !== 'string' || value.length < 1 || value.length > MAX_UNIT_LENGTH) return false;
  // Printable ASCII ('!' to '~') is what nearly every unit is: no Unicode property regex for it.
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if (c < 0x21 || c > 0x7e) return UNIT_CHARACTERS.test(value);
  }
  return true;
}
export type Unit = z.infer<typeof UnitSchema>;

/** An unordered pair of units, as a converter serves it and a registry pools it; canonical form sorts it (`a < b`). */
export type UnitPair = readonly [Unit, Unit];

/** A host in canonical form: IPv4 dotted quad, compressed lower-case IPv6, or lower-case DNS name. */
export const HostSchema = z.string().refine((host) => canonicalHost(host) === host, {
  message: 'host must be an IPv4 address, an IPv6 address or a DNS name, in canonical form',
});

export const PortSchema = z.number().int().min(1).max(65535);

export const EndpointSchema = z.object({ host: HostSchema, port: PortSchema });
export type Endpoint = z.infer<typeof EndpointSchema>;

export const AmountSchema = z.number().finite();

/** A shared secret for registry changes: 1 to 256 printable ASCII characters, no spaces. */
export const TokenSchema = z.string().regex(/^[\x21-\x7e]{1,256}$/);

/** Reads the value of a `token=<secret>` argument. The refusal never quotes the secret. */
export function parseToken(value: string): Result<string> {
  if (TokenSchema.safeParse(value).success) return ok(value);
  return fail('BAD_TOKEN', 'A token is 1 to 256 printable ASCII characters without spaces, written token=<secret>.');
}

export function parseUnit(token: string): Result<Unit> {
  // isUnit, not UnitSchema.safeParse: two units in every LOOKUP, and zod's result costs more than the test.
  if (isUnit(token)) return ok(token);
  return fail('BAD_UNIT', `${quote(token)} is not a unit symbol: use 1 to ${MAX_UNIT_LENGTH} printable characters.`);
}

export function parseHost(token: string): Result<string> {
  const host = canonicalHost(token);
  if (host !== undefined) return ok(host);
  return fail('BAD_HOST', `${quote(token)} is not an IPv4 address, an IPv6 address or a DNS name.`);
}

export function parsePort(token: string): Result<number> {
  // Leading zeros are refused: `08` is more likely a typo than port 8.
  if (/^[1-9][0-9]{0,4}$/.test(token)) {
    const port = Number(token);
    if (port <= 65535) return ok(port);
  }
  return fail('BAD_PORT', `${quote(token)} is not a whole number from 1 to 65535.`);
}

const DECIMAL = /^[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?$/;

/** Amounts as people type them: `15`, `-2.5`, `1.25e3`, `.5`; never `NaN`, `0x10`, `1,5`, `1_000`. */
export function parseAmount(token: string): Result<number> {
  if (!DECIMAL.test(token)) {
    return fail('BAD_AMOUNT', `${quote(token)} is not a decimal number such as 15, -2.5, 1.25e3 or .5.`);
  }
  const amount = Number(token);
  if (!Number.isFinite(amount)) return fail('BAD_AMOUNT', `${quote(token)} is too large to compute with.`);
  return ok(amount);
}

/**
 * Writes a number as a person expects to read it: rounded to 15 significant digits, then the
 * shortest decimal that reads back as that value, so binary noise such as 0.30479999999999996
 * reads 0.3048. Negative zero is written 0.
 */
export function formatAmount(amount: number): string {
  if (!Number.isFinite(amount)) throw new RangeError(`cannot write ${String(amount)} as an amount`);
  const rounded = Number(amount.toPrecision(15));
  // Near the largest double, rounding up to 15 digits overflows; the exact value is still writable.
  if (!Number.isFinite(rounded)) return String(amount);
  return rounded === 0 ? '0' : String(rounded);
}

/** A dotted quad as canonicalHost writes it: four decimal octets, no leading zeros. */
const OCTET = '(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])';
const CANONICAL_IPV4 = new RegExp(`^${OCTET}(?:\\.${OCTET}){3}$`);

/** The canonical spelling of a host, or undefined when it is not a valid host. */
export function canonicalHost(input: string): string | undefined {
  // Almost every host a registry sees is already a canonical dotted quad: one regex says so.
  if (CANONICAL_IPV4.test(input)) return input;
  if (input.length === 0 || input.length > 253) return undefined;
  if (input.includes(':')) return canonicalIPv6(input);
  const labels = input.split('.');
  if (labels.every((label) => /^[0-9]+$/.test(label))) return canonicalIPv4(labels);
  const name = input.endsWith('.') ? input.slice(0, -1) : input;
  const ok = name
    .split('.')
    .every((label) => /^[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?$/.test(label));
  return ok ? name.toLowerCase() : undefined;
}

function canonicalIPv4(labels: string[]): string | undefined {
  if (labels.length !== 4) return undefined;
  for (const label of labels) {
    // `010` is octal to some tools and decimal to others: refuse the ambiguity.
    if (label.length > 3 || (label.length > 1 && label.startsWith('0')) || Number(label) > 255) return undefined;
  }
  return labels.join('.');
}

function canonicalIPv6(input: string): string | undefined {
  const groups = ipv6Groups(input);
  if (!groups) return undefined;
  // RFC 5952: lower case, no leading zeros, the longest run (>= 2) of zero groups becomes `::`.
  let bestStart = -1;
  let bestLength = 1;
  for (let i = 0; i < 8; ) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLength) {
      bestStart = i;
      bestLength = j - i;
    }
    i = j;
  }
  const hex = groups.map((g) => g.toString(16));
  if (bestStart < 0) return hex.join(':');
  return `${hex.slice(0, bestStart).join(':')}::${hex.slice(bestStart + bestLength).join(':')}`;
}

function ipv6Groups(input: string): number[] | undefined {
  const halves = input.split('::');
  if (halves.length > 2) return undefined;
  const parseHalf = (half: string): number[] | undefined => {
    if (half === '') return [];
    const parts = half.split(':');
    const groups: number[] = [];
    for (const [index, part] of parts.entries()) {
      if (index === parts.length - 1 && part.includes('.')) {
        const v4 = canonicalIPv4(part.split('.'));
        if (!v4) return undefined;
        const [a = 0, b = 0, c = 0, d = 0] = v4.split('.').map(Number);
        groups.push(a * 256 + b, c * 256 + d);
      } else if (/^[0-9A-Fa-f]{1,4}$/.test(part)) {
        groups.push(parseInt(part, 16));
      } else {
        return undefined;
      }
    }
    return groups;
  };
  const head = parseHalf(halves[0] ?? '');
  const tail = halves.length === 2 ? parseHalf(halves[1] ?? '') : [];
  if (!head || !tail) return undefined;
  if (halves.length === 1) return head.length === 8 ? head : undefined;
  const missing = 8 - head.length - tail.length;
  if (missing < 1) return undefined;
  return [...head, ...new Array<number>(missing).fill(0), ...tail];
}
