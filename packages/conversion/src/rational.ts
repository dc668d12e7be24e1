/**
 * Exact rational numbers over BigInt, always in lowest terms with a positive denominator.
 *
 * Every unit definition and every banana fact is one of these, so a conversion composed from
 * several definitions is exact until the single rounding to a double at the very end.
 */
export type Rational = { readonly num: bigint; readonly den: bigint };

export const ZERO: Rational = Object.freeze({ num: 0n, den: 1n });
export const ONE: Rational = Object.freeze({ num: 1n, den: 1n });

function gcd(a: bigint, b: bigint): bigint {
  if (a < 0n) a = -a;
  if (b < 0n) b = -b;
  while (b !== 0n) [a, b] = [b, a % b];
  return a;
}

export function rational(num: bigint, den: bigint = 1n): Rational {
  if (den === 0n) throw new RangeError('rational with a zero denominator');
  if (den < 0n) {
    num = -num;
    den = -den;
  }
  const g = gcd(num, den);
  return g > 1n ? { num: num / g, den: den / g } : { num, den };
}

export const mul = (a: Rational, b: Rational): Rational => rational(a.num * b.num, a.den * b.den);
export const div = (a: Rational, b: Rational): Rational => rational(a.num * b.den, a.den * b.num);
export const add = (a: Rational, b: Rational): Rational =>
  rational(a.num * b.den + b.num * a.den, a.den * b.den);
export const sub = (a: Rational, b: Rational): Rational =>
  rational(a.num * b.den - b.num * a.den, a.den * b.den);
export const neg = (a: Rational): Rational => ({ num: -a.num, den: a.den });
export const isZero = (a: Rational): boolean => a.num === 0n;
export const equals = (a: Rational, b: Rational): boolean => a.num === b.num && a.den === b.den;

const DECIMAL = /^([+-]?)(\d+)(?:\.(\d+))?(?:[eE]([+-]?\d+))?$/;
const FRACTION = /^([+-]?\d+)\/(\d+)$/;

/**
 * Parses an exact decimal ("0.45359237", "1e3", "-2.5E-2") or a fraction ("119/16").
 * Returns undefined for anything else, so callers decide how to report it.
 */
export function parseRational(text: string): Rational | undefined {
  const fraction = FRACTION.exec(text);
  if (fraction) {
    const den = BigInt(fraction[2] ?? '0');
    return den === 0n ? undefined : rational(BigInt(fraction[1] ?? '0'), den);
  }
  const m = DECIMAL.exec(text);
  if (!m) return undefined;
  const [, sign = '', whole = '0', frac = '', exp = '0'] = m;
  const e = Number(exp) - frac.length;
  if (!Number.isSafeInteger(e) || Math.abs(e) > 400) return undefined;
  let num = BigInt(whole + frac);
  let den = 1n;
  if (e >= 0) num *= 10n ** BigInt(e);
  else den = 10n ** BigInt(-e);
  return rational(sign === '-' ? -num : num, den);
}

/** Parses a decimal or fraction that is known to be valid (definitions written in code). */
export function q(text: string): Rational {
  const r = parseRational(text);
  if (!r) throw new RangeError(`not an exact decimal or fraction: ${text}`);
  return r;
}

const F64 = new Float64Array(1);
const U64 = new BigUint64Array(F64.buffer);

/** The exact value of a finite double (every finite double is a dyadic rational). */
export function fromDouble(x: number): Rational {
  if (!Number.isFinite(x)) throw new RangeError('not a finite number');
  if (Number.isSafeInteger(x)) return { num: BigInt(x), den: 1n };
  F64[0] = x;
  const bits = U64[0] ?? 0n;
  const negative = bits >> 63n === 1n;
  const biased = Number((bits >> 52n) & 0x7ffn);
  let mantissa = bits & 0xfffffffffffffn;
  // Subnormals have no implicit leading bit and the exponent of the smallest normal.
  let exponent = biased - 1075;
  if (biased === 0) exponent = -1074;
  else mantissa |= 1n << 52n;
  const signed = negative ? -mantissa : mantissa;
  return exponent >= 0
    ? { num: signed << BigInt(exponent), den: 1n }
    : rational(signed, 1n << BigInt(-exponent));
}

function bitLength(n: bigint): number {
  // toString(16) is fast for BigInt and gives 4 bits per digit; fix up the leading digit.
  const hex = n.toString(16);
  const lead = parseInt(hex[0] ?? '0', 16);
  return (hex.length - 1) * 4 + (32 - Math.clz32(lead));
}

/**
 * Rounds an exact rational to the nearest double, ties to even: the one rounding a conversion
 * is allowed. Handles subnormal results and overflows to ±Infinity as IEEE 754 does.
 */
export function toDouble(r: Rational): number {
  if (r.num === 0n) return 0;
  const negative = r.num < 0n;
  const a = negative ? -r.num : r.num;
  const b = r.den;
  // Scale so that the integer quotient has 54 or 55 bits: 53 to keep, at least one to round.
  const shift = 54 - (bitLength(a) - bitLength(b));
  const scaledA = shift >= 0 ? a << BigInt(shift) : a;
  const scaledB = shift >= 0 ? b : b << BigInt(-shift);
  const quotient = scaledA / scaledB;
  const sticky = quotient * scaledB !== scaledA;
  // The value is quotient * 2^-shift (plus a sticky fraction below its last bit).
  const topExponent = bitLength(quotient) - 1 - shift;
  if (topExponent > 1023) return negative ? -Infinity : Infinity;
  const lsbExponent = Math.max(topExponent - 52, -1074);
  const drop = lsbExponent + shift;
  let kept: bigint;
  if (drop <= 0) {
    kept = quotient << BigInt(-drop);
  } else {
    kept = quotient >> BigInt(drop);
    const rest = quotient - (kept << BigInt(drop));
    const half = 1n << BigInt(drop - 1);
    if (rest > half || (rest === half && (sticky || (kept & 1n) === 1n))) kept += 1n;
  }
  // kept <= 2^53 and 2^lsbExponent is a double, so this product is exact (or overflows).
  const magnitude = Number(kept) * 2 ** lsbExponent;
  return negative ? -magnitude : magnitude;
}

/** Exact decimal text when the denominator has only factors 2 and 5, else "num/den". */
export function formatRational(r: Rational): string {
  let den = r.den;
  let twos = 0;
  let fives = 0;
  while (den % 2n === 0n) {
    den /= 2n;
    twos++;
  }
  while (den % 5n === 0n) {
    den /= 5n;
    fives++;
  }
  if (den !== 1n) return `${r.num}/${r.den}`;
  const digits = Math.max(twos, fives);
  const scaled = (r.num * 10n ** BigInt(digits)) / r.den;
  const negative = scaled < 0n;
  const text = (negative ? -scaled : scaled).toString().padStart(digits + 1, '0');
  const whole = text.slice(0, text.length - digits);
  const frac = text.slice(text.length - digits);
  return `${negative ? '-' : ''}${whole}${digits > 0 ? `.${frac}` : ''}`;
}
