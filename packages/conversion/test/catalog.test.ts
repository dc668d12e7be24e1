import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  BANANA_FACT_SOURCES,
  BananaFactsSchema,
  CONVERSION_ERROR_CODES,
  ConversionError,
  DEFAULT_BANANA_FACTS,
  UNIT_KINDS,
  catalog,
  convert,
  createCatalog,
} from '../src/index';

function caught(run: () => unknown): ConversionError {
  try {
    run();
  } catch (error) {
    if (error instanceof ConversionError) return error;
    throw error;
  }
  throw new Error('expected a ConversionError');
}

describe('units and aliases', () => {
  it('resolves aliases to canonical symbols', () => {
    expect(catalog.resolve('feet')).toBe('ft');
    expect(catalog.resolve('foot')).toBe('ft');
    expect(catalog.resolve('lb')).toBe('lbs');
    expect(catalog.resolve('pounds')).toBe('lbs');
    expect(catalog.resolve('bananas')).toBe('b');
    expect(catalog.resolve('dollars')).toBe('$');
    expect(catalog.resolve('usd')).toBe('$');
    expect(catalog.resolve('yen')).toBe('y');
    expect(catalog.resolve('degC')).toBe('C');
    expect(catalog.resolve('celsius')).toBe('C');
    expect(catalog.resolve('g-potassium')).toBe('gK');
    expect(catalog.resolve('gpotassium')).toBe('gK');
    expect(catalog.resolve('nope')).toBeUndefined();
  });

  it('keeps symbols case-sensitive and finds words regardless of case', () => {
    expect(catalog.resolve('B')).toBe('B');
    expect(catalog.resolve('b')).toBe('b');
    expect(catalog.resolve('MB')).toBe('MB');
    expect(catalog.resolve('mB')).toBeUndefined();
    expect(catalog.resolve('Mb')).toBeUndefined();
    expect(catalog.resolve('Feet')).toBe('ft');
    expect(catalog.resolve('CELSIUS')).toBe('C');
    expect(convert(1, 'B', 'bit')).toBe(8);
    expect(convert(1, 'b', 'in')).toBe(7.4375);
  });

  it('lists every unit once with its kind and an exact definition', () => {
    const units = catalog.units();
    const symbols = units.map((unit) => unit.symbol);
    expect(new Set(symbols).size).toBe(symbols.length);
    for (const course of ['ft', 'in', 'cm', 'm', 'kg', 'g', 'lbs', 'oz', 'b', '$', 'y', 'gK']) {
      expect(symbols).toContain(course);
    }
    expect(new Set(units.map((unit) => unit.kind))).toEqual(new Set(UNIT_KINDS));
    const byName = (symbol: string) => units.find((unit) => unit.symbol === symbol)?.definition;
    expect(byName('ft')).toBe('1 ft = 0.3048 m');
    expect(byName('F')).toBe('x F = x * 5/9 + 45967/180 K');
    expect(byName('y')).toBe('1 y = 10000/1405001 $ (banana fact yenPerUsd)');
  });

  it('never routes grams of banana through potassium: g and gK are different kinds', () => {
    expect(catalog.exact('g', 'gK').kinds).toEqual(['mass', 'count', 'potassium']);
    expect(convert(118, 'g', 'gK')).toBe(0.422); // one banana's mass -> one banana's potassium
    expect(convert(1, 'gK', 'mgK')).toBe(1000);
    expect(catalog.exact('g', 'kg').kinds).toEqual(['mass']);
  });
});

describe('refusals', () => {
  it('refuses units of kinds that no banana fact bridges, naming both kinds', () => {
    const error = caught(() => convert(1, 'l', 'kg'));
    expect(error.code).toBe('INCOMPATIBLE_UNITS');
    expect(error.message).toMatchInlineSnapshot(
      `"Cannot convert "l" (volume) to "kg" (mass): no banana fact bridges volume and mass."`,
    );
    expect(caught(() => convert(1, 'C', 'b')).code).toBe('INCOMPATIBLE_UNITS');
    expect(caught(() => catalog.converter('s', 'B')).code).toBe('INCOMPATIBLE_UNITS');
  });

  it('refuses unknown units, quoting and truncating the input', () => {
    const error = caught(() => convert(1, 'x'.repeat(100), 'kg'));
    expect(error.code).toBe('UNKNOWN_UNIT');
    expect(error.name).toBe('ConversionError');
    expect(error.message).toMatchInlineSnapshot(
      `"Unknown unit "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx...": expected a unit symbol or alias from the catalog, such as ft, kg or b."`,
    );
  });

  it('refuses amounts that are not finite, and results beyond the largest double', () => {
    expect(caught(() => convert(Number.NaN, 'ft', 'in')).code).toBe('INVALID_AMOUNT');
    expect(caught(() => convert(Infinity, 'ft', 'in')).code).toBe('INVALID_AMOUNT');
    expect(caught(() => convert(1e308, 'km', 'mm')).code).toBe('OUT_OF_RANGE');
    expect(convert(1e300, 'km', 'mm')).toBe(1e306);
  });

  it('documents every error code in the README, and documents no code that does not exist', () => {
    const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
    const errors = readme.slice(readme.indexOf('### Errors'), readme.indexOf('## Path search'));
    const documented = [...errors.matchAll(/^\| `([A-Z_]+)` \|/gm)].map((m) => m[1]);
    expect(documented.sort()).toEqual(Object.keys(CONVERSION_ERROR_CODES).sort());
  });
});

describe('banana facts', () => {
  it('cites a source, series and date for every default fact, in one table', () => {
    expect(Object.keys(BANANA_FACT_SOURCES).sort()).toEqual(Object.keys(DEFAULT_BANANA_FACTS).sort());
    for (const fact of Object.values(BANANA_FACT_SOURCES)) {
      expect(fact.source.length).toBeGreaterThan(10);
      expect(fact.series.length).toBeGreaterThan(3);
      expect(fact.date.length).toBeGreaterThan(3);
    }
    expect(BananaFactsSchema.parse(DEFAULT_BANANA_FACTS)).toEqual(DEFAULT_BANANA_FACTS);
  });

  it('changes answers when a fact is overridden, leaving the default catalog alone', () => {
    const pricier = createCatalog({ facts: { bananaPriceUsdPerPound: 1 } });
    expect(pricier.convert(43, 'gK', 'y')).toBe(3724.336426240865);
    expect(pricier.convert(1, 'lbs', '$')).toBe(1);
    expect(convert(1, 'lbs', '$')).toBe(0.6);
    const longer = createCatalog({ facts: { mediumBananaLengthInches: '8', yenPerUsd: '150' } });
    expect(longer.convert(150, 'b', 'ft')).toBe(100);
    expect(longer.convert(1, '$', 'y')).toBe(150);
    expect(longer.facts()).toMatchObject({ mediumBananaLengthInches: '8', mediumBananaMassGrams: '118' });
    expect(createCatalog({ facts: { mediumBananaLengthInches: '119/16' } }).convert(1, 'b', 'in')).toBe(7.4375);
  });

  it('reads a number fact as the decimal it prints as, not the binary double behind it', () => {
    const local = createCatalog({ facts: { bananaPriceUsdPerPound: 0.1 } });
    expect(local.exact('lbs', '$').scale).toEqual({ numerator: 1n, denominator: 10n });
  });

  it.each([
    [{ bananaPriceUsdPerPound: 0 }, 'bananaPriceUsdPerPound'],
    [{ bananaPriceUsdPerPound: -1 }, 'bananaPriceUsdPerPound'],
    [{ yenPerUsd: Number.NaN }, 'yenPerUsd'],
    [{ yenPerUsd: Infinity }, 'yenPerUsd'],
    [{ mediumBananaMassGrams: 'heavy' }, 'mediumBananaMassGrams'],
    [{ mediumBananaMassGrams: '-5' }, 'mediumBananaMassGrams'],
    [{ mediumBananaMassGrams: '0/7' }, 'mediumBananaMassGrams'],
    [{ bananaColour: 'yellow' }, 'bananaColour'],
  ])('refuses bad facts %j', (facts, field) => {
    const error = caught(() => createCatalog({ facts: facts as never }));
    expect(error.code).toBe('INVALID_FACTS');
    expect(error.message).toContain(field);
  });
});
