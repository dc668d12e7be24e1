import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { catalog, convert, createCatalog } from '../src/index';
import { add, fromDouble, mul, rational, toDouble } from '../src/rational';

// [amount, from, to, answer]: answers follow from NIST SP 811 / Handbook 44 exact definitions
// and the default banana facts; each is the exact value rounded once, so equality is exact.
const COURSE_PAIRS: [number, string, string, number][] = [
  [1, 'ft', 'in', 12],
  [30, 'in', 'ft', 2.5],
  [1.25, 'ft', 'in', 15],
  [12, 'in', 'ft', 1],
  [1, 'in', 'cm', 2.54],
  [2.54, 'cm', 'in', 1],
  [100, 'cm', 'm', 1],
  [1, 'm', 'cm', 100],
  [1, 'kg', 'g', 1000],
  [1, 'g', 'kg', 0.001],
  [1, 'lbs', 'kg', 0.45359237],
  [1, 'kg', 'lbs', 2.2046226218487757], // 1 / 0.45359237, rounded once
  [1, 'lbs', 'oz', 16],
  [8, 'oz', 'lbs', 0.5],
  [1, 'oz', '$', 0.0375], // $0.60 per lb / 16
  [0.6, '$', 'oz', 16],
  [1, 'lbs', 'b', 3.8440031355932205], // 453.59237 g / 118 g
  [1, 'b', 'lbs', 0.2601454693781555],
  [1, 'b', 'in', 7.4375],
  [7.4375, 'in', 'b', 1],
  [1, 'b', 'gK', 0.422],
  [0.422, 'gK', 'b', 1],
  [1, '$', 'y', 140.5001],
  [140.5001, 'y', '$', 1],
  [1, 'y', '$', 0.0071174326566315615],
];

const OTHERS: [number, string, string, number][] = [
  [1, 'ft', 'm', 0.3048],
  [1, 'yd', 'm', 0.9144],
  [1, 'mi', 'km', 1.609344],
  [1, 'mi', 'ft', 5280],
  [1, 'nmi', 'm', 1852],
  [1, 'km', 'mm', 1e6],
  [1, 'st', 'lbs', 14],
  [1, 't', 'kg', 1000],
  [1, 'mg', 'g', 0.001],
  [1, 'oz', 'g', 28.349523125],
  [1, 'gal', 'l', 3.785411784],
  [1, 'gal', 'qt', 4],
  [1, 'qt', 'pt', 2],
  [1, 'pt', 'cup', 2],
  [1, 'cup', 'floz', 8],
  [1, 'floz', 'ml', 29.5735295625],
  [1, 'tbsp', 'tsp', 3],
  [1, 'm3', 'l', 1000],
  [1, 'h', 's', 3600],
  [1, 'wk', 'd', 7],
  [1, 'min', 'ms', 60000],
  [90, 'min', 'h', 1.5],
  [1, 'B', 'bit', 8],
  [1, 'GiB', 'MiB', 1024],
  [1, 'GB', 'MB', 1000],
  [1, 'KiB', 'kB', 1.024],
  [1, 'TiB', 'B', 2 ** 40],
  [100, 'C', 'F', 212],
  [0, 'C', 'F', 32],
  [-40, 'C', 'F', -40],
  [-40, 'F', 'C', -40],
  [32, 'F', 'C', 0],
  [212, 'F', 'C', 100],
  [0, 'C', 'K', 273.15],
  [0, 'K', 'F', -459.67],
  [0, 'K', 'C', -273.15],
  [1000, 'mgK', 'gK', 1],
  [1, 'kg', 'in', 63.029661016949156], // bananas laid end to end: 1000/118 * 7.4375
];

describe('exact conversions (NIST definitions, default banana facts)', () => {
  it.each(COURSE_PAIRS)('course pair: %d %s -> %s is exactly %d', (amount, from, to, answer) => {
    expect(convert(amount, from, to)).toBe(answer);
  });

  it.each(OTHERS)('%d %s -> %s is exactly %d', (amount, from, to, answer) => {
    expect(convert(amount, from, to)).toBe(answer);
  });

  it('covers all eleven course pairs in both directions', () => {
    const pairs = ['ft-in', 'in-cm', 'cm-m', 'kg-g', 'kg-lbs', 'lbs-oz', 'oz-$', 'lbs-b', 'b-in', 'b-gK', '$-y'];
    const covered = new Set(COURSE_PAIRS.map(([, from, to]) => `${from}-${to}`));
    for (const pair of pairs) {
      const [a = '', b = ''] = pair.split('-');
      expect(covered.has(`${a}-${b}`) && covered.has(`${b}-${a}`), pair).toBe(true);
    }
  });

  it('does not accumulate binary rounding along a chain, as double arithmetic would', () => {
    // With the factor as a double, or step by step in doubles (ft -> in -> cm -> m), answers
    // drift by an ulp; the exact chain rounds once and lands on the decimal answer.
    expect(9 * 0.3048).toBe(2.7432000000000003);
    expect(convert(9, 'ft', 'm')).toBe(2.7432);
    expect(1.1 * 2.54).toBe(2.7940000000000005);
    expect(convert(1.1, 'in', 'cm')).toBe(2.794);
    expect((0.7 * 12 * 2.54) / 100).toBe(0.21335999999999994);
    expect(convert(0.7, 'ft', 'm')).toBe(0.21336);
  });
});

describe("the course's four questions, answered from the catalog", () => {
  it('45.6 lbs is 20.683812072 kg', () => {
    expect(convert(45.6, 'pounds', 'kg')).toBe(20.683812072000002); // 45.6 (as a double) * 0.45359237
    expect(convert(45.6, 'lbs', 'kg')).toBeCloseTo(20.683812072, 12);
  });

  it('150 bananas laid end to end are 92.96875 ft', () => {
    expect(convert(150, 'bananas', 'ft')).toBe(92.96875); // 150 * 7.4375 in / 12
  });

  it('enough bananas for 43 g of potassium cost about 2234.60 yen', () => {
    // 43 gK / 0.422 gK per banana * 0.118 kg / 0.45359237 kg per lb * $0.60 per lb * 140.5001 y/$
    expect(convert(43, 'gK', 'y')).toBe(2234.601855744519);
    expect(catalog.exact('gK', 'y').kinds).toEqual(['potassium', 'count', 'mass', 'money']);
  });

  it('$56.34 of bananas laid end to end are about 6818.83 cm', () => {
    expect(convert(56.34, '$', 'cm')).toBe(6818.832475692363);
    expect(catalog.exact('$', 'cm').kinds).toEqual(['money', 'mass', 'count', 'length']);
  });
});

const SYMBOLS = catalog.units().map((unit) => unit.symbol);
const convertiblePairs = SYMBOLS.flatMap((a) =>
  SYMBOLS.filter((b) => {
    try {
      catalog.exact(a, b);
      return true;
    } catch {
      return false;
    }
  }).map((b) => [a, b] as const),
);

describe('properties', () => {
  it('round trips a -> b -> a return the input within 1e-12 relative', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...convertiblePairs),
        fc.double({ min: -1e12, max: 1e12, noNaN: true, noDefaultInfinity: true }),
        ([a, b], amount) => {
          const there = convert(amount, a, b);
          const back = convert(there, b, a);
          // Temperatures near absolute zero round trip to within 1e-12 of the offset's scale.
          const scale = Math.max(Math.abs(amount), catalog.units().find((u) => u.symbol === a)?.kind === 'temperature' ? 500 : 0);
          // Amounts near the subnormal range lose bits to underflow, hence the absolute floor.
          expect(Math.abs(back - amount)).toBeLessThanOrEqual(1e-12 * scale + 1e-290);
        },
      ),
      { numRuns: 3000 },
    );
  });

  it('every converter answer is the exact rational result rounded once (fast path checked against BigInt)', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...convertiblePairs),
        fc.oneof(
          fc.double({ noNaN: true, noDefaultInfinity: true }),
          // Everyday magnitudes, where the fast double-double kernel (not the fallback) answers.
          fc.double({ min: -1e9, max: 1e9, noNaN: true }),
          fc.integer({ min: -1e6, max: 1e6 }).map((n) => n / 100),
        ),
        ([a, b], amount) => {
          const exact = catalog.exact(a, b);
          const scale = rational(exact.scale.numerator, exact.scale.denominator);
          const offset = rational(exact.offset.numerator, exact.offset.denominator);
          const want = toDouble(add(mul(fromDouble(amount), scale), offset));
          if (!Number.isFinite(want)) {
            expect(() => convert(amount, a, b)).toThrow(expect.objectContaining({ code: 'OUT_OF_RANGE' }));
          } else {
            expect(convert(amount, a, b)).toBe(want + 0);
          }
        },
      ),
      { numRuns: 20000 },
    );
  }, 60_000); // thousands of BigInt checks: minutes on a busy machine are not a failure

  it('converter() and convert() agree, and a converter is reused for a pair', () => {
    const local = createCatalog();
    const toCm = local.converter('in', 'cm');
    expect(local.converter('in', 'cm')).toBe(toCm);
    fc.assert(
      fc.property(fc.double({ min: -1e6, max: 1e6, noNaN: true }), (x) => {
        expect(toCm(x)).toBe(local.convert(x, 'inches', 'centimeters'));
      }),
    );
  });
});
