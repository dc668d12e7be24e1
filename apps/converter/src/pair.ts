import { type Catalog, ConversionError } from '@conv/conversion';
import { type Result, type UnitPair, fail, formatAmount, ok } from '@conv/protocol';
import { ConverterError } from './errors';

/** The one pair a converter serves, both directions, as the symbols --pair gave them. */
export type { UnitPair };

/** How a converter turns amounts of one unit of its pair into the other. */
export type PairConversion = {
  readonly units: UnitPair;
  /** Where the numbers come from: the exact catalog, or --factor/--offset. */
  readonly source: 'catalog' | 'factor';
  /** `1 ft = 12 in`, for the start log. */
  readonly definition: string;
  /** Converts `amount` from `from` to `to`; a failure for any other pair or an amount out of range. */
  convert(from: string, to: string, amount: number): Result<number>;
};

export type PairSpec = {
  readonly pair: UnitPair;
  readonly factor?: number | undefined;
  readonly offset?: number | undefined;
};

export type ResolvedPair = {
  readonly conversion: PairConversion;
  /** True when the catalog could derive the pair but --factor was given and wins. */
  readonly factorOverridesCatalog: boolean;
};

/**
 * Decides how to convert: the catalog when it derives the pair, unless --factor is given
 * (the operator's number wins, and main logs that it did). Throws ConverterError
 * UNDERIVABLE_PAIR, with the catalog's sentence, when neither can.
 */
export function resolvePair(spec: PairSpec, catalog: Catalog): ResolvedPair {
  const [a, b] = spec.pair;
  let derived: { forward: (x: number) => number; backward: (x: number) => number } | undefined;
  let refusal: ConversionError | undefined;
  try {
    derived = { forward: catalog.converter(a, b), backward: catalog.converter(b, a) };
  } catch (error) {
    if (!(error instanceof ConversionError)) throw error;
    refusal = error;
  }
  if (spec.factor !== undefined) {
    return { conversion: affineConversion(spec.pair, spec.factor, spec.offset ?? 0), factorOverridesCatalog: derived !== undefined };
  }
  if (derived) {
    const { forward, backward } = derived;
    const definition = `1 ${a} = ${formatAmount(forward(1))} ${b}`;
    return { conversion: pairConversion(spec.pair, 'catalog', definition, forward, backward), factorOverridesCatalog: false };
  }
  throw new ConverterError(
    'UNDERIVABLE_PAIR',
    `cannot serve ${a}:${b}: ${refusal?.message ?? 'the catalog cannot derive it.'} ` +
      `Give --factor F (1 ${a} = F ${b}) to serve it anyway.`,
    { cause: refusal },
  );
}

/** `b = a * factor + offset` and back; exact to double rounding, as the operator gave it. */
export function affineConversion(units: UnitPair, factor: number, offset: number): PairConversion {
  const [a, b] = units;
  const definition =
    offset === 0
      ? `1 ${a} = ${formatAmount(factor)} ${b}`
      : `${b} = ${a} * ${formatAmount(factor)} ${offset < 0 ? '-' : '+'} ${formatAmount(Math.abs(offset))}`;
  return pairConversion(
    units,
    'factor',
    definition,
    (x) => x * factor + offset,
    (y) => (y - offset) / factor,
  );
}

function pairConversion(
  units: UnitPair,
  source: PairConversion['source'],
  definition: string,
  forward: (x: number) => number,
  backward: (x: number) => number,
): PairConversion {
  const [a, b] = units;
  const wrongPair = `This server converts ${a} <-> ${b} only.`;
  return Object.freeze({
    units,
    source,
    definition,
    convert(from: string, to: string, amount: number): Result<number> {
      const run = from === a && to === b ? forward : from === b && to === a ? backward : undefined;
      if (!run) return fail('WRONG_PAIR', wrongPair);
      let result: number;
      try {
        result = run(amount);
      } catch (error) {
        // The catalog refuses results beyond the largest double (OUT_OF_RANGE).
        if (error instanceof ConversionError) return fail('BAD_AMOUNT', error.message);
        throw error;
      }
      if (!Number.isFinite(result)) {
        return fail('BAD_AMOUNT', `Converting ${amount} ${from} to ${to} gives a result beyond the largest double.`);
      }
      return ok(result);
    },
  });
}
