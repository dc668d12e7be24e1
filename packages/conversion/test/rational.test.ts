import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { formatRational, fromDouble, parseRational, q, rational, toDouble } from '../src/rational';

describe('exact rationals', () => {
  it('rounds a/b exactly as IEEE division does for integers that are doubles', () => {
    // For safe integers a and b, a / b in doubles is the correctly rounded quotient: an oracle.
    const safe = fc.bigInt({ min: -(2n ** 53n), max: 2n ** 53n });
    fc.assert(
      fc.property(safe, safe.filter((b) => b !== 0n), (a, b) => {
        expect(toDouble(rational(a, b))).toBe(Number(a) / Number(b) + 0);
      }),
      { numRuns: 5000 },
    );
  });

  it('reads every finite double exactly and rounds it back to itself', () => {
    fc.assert(
      fc.property(fc.double({ noNaN: true, noDefaultInfinity: true }), (x) => {
        expect(toDouble(fromDouble(x))).toBe(x + 0);
      }),
      { numRuns: 5000 },
    );
    expect(fromDouble(0.1)).toEqual(rational(3602879701896397n, 2n ** 55n));
    expect(fromDouble(5e-324)).toEqual(rational(1n, 2n ** 1074n));
  });

  it('rounds ties to even, into the subnormal range and to infinity at the top', () => {
    expect(toDouble(rational(2n ** 53n + 1n))).toBe(2 ** 53); // tie, even stays
    expect(toDouble(rational(2n ** 53n + 3n))).toBe(2 ** 53 + 4); // tie, rounds to even
    expect(toDouble(rational(1n, 2n ** 1075n))).toBe(0); // half the smallest subnormal: tie to 0
    expect(toDouble(rational(3n, 2n ** 1076n))).toBe(5e-324); // above half: up
    expect(toDouble(rational(2n ** 1024n))).toBe(Infinity);
    expect(toDouble(rational(-(2n ** 1024n) + 2n ** 970n))).toBe(-Infinity); // tie at the top
    expect(toDouble(rational(2n ** 1024n - 2n ** 970n - 1n))).toBe(Number.MAX_VALUE);
  });

  it('parses exact decimals and fractions, and formats them back', () => {
    expect(parseRational('0.45359237')).toEqual(rational(45359237n, 100000000n));
    expect(parseRational('119/16')).toEqual(rational(119n, 16n));
    expect(parseRational('-2.5e-2')).toEqual(rational(-1n, 40n));
    expect(parseRational('1/0')).toBeUndefined();
    expect(parseRational('0x10')).toBeUndefined();
    expect(parseRational('')).toBeUndefined();
    expect(formatRational(q('459.67'))).toBe('459.67');
    expect(formatRational(q('5/9'))).toBe('5/9');
    expect(formatRational(q('-0.0375'))).toBe('-0.0375');
  });
});
