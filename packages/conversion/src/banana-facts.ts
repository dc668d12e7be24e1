import { z } from 'zod';
import { ConversionError } from './errors';
import { parseRational, type Rational } from './rational';

/**
 * The one place where the banana facts live: each value with the public source it comes from.
 * Every conversion between kinds of quantity rests on one of these (see the README).
 */
export const BANANA_FACT_SOURCES = {
  mediumBananaMassGrams: {
    value: '118',
    unit: 'g per banana',
    source: 'USDA FoodData Central, SR Legacy food 173944 "Bananas, raw", portion "1 medium (7" to 7-7/8" long)"',
    series: 'FDC ID 173944 (NDB 09040), portion weight',
    date: 'SR Legacy, April 2018',
    url: 'https://fdc.nal.usda.gov/fdc-app.html#/food-details/173944/nutrients',
  },
  mediumBananaLengthInches: {
    value: '7.4375',
    unit: 'in per banana',
    source: 'USDA FoodData Central, same portion: a medium banana is 7 to 7-7/8 in long; we take the midpoint, 119/16 in',
    series: 'FDC ID 173944 (NDB 09040), portion description',
    date: 'SR Legacy, April 2018',
    url: 'https://fdc.nal.usda.gov/fdc-app.html#/food-details/173944/nutrients',
  },
  mediumBananaPotassiumMilligrams: {
    value: '422',
    unit: 'mg of potassium per banana',
    source: 'USDA FoodData Central, same food: potassium, K, in the 118 g medium portion (358 mg per 100 g)',
    series: 'FDC ID 173944 (NDB 09040), nutrient 306 (Potassium, K)',
    date: 'SR Legacy, April 2018',
    url: 'https://fdc.nal.usda.gov/fdc-app.html#/food-details/173944/nutrients',
  },
  bananaPriceUsdPerPound: {
    value: '0.60',
    unit: 'USD per lb',
    source: 'US Bureau of Labor Statistics, CPI average price data, "Bananas, per lb.", U.S. city average (The Economics Daily, 12 Aug 2013)',
    series: 'APU0000711211',
    date: 'June 2013',
    url: 'https://www.bls.gov/opub/ted/2013/ted_20130812.htm',
  },
  yenPerUsd: {
    value: '140.5001',
    unit: 'JPY per USD',
    source: 'Board of Governors of the Federal Reserve System, G.5A Foreign Exchange Rates (annual averages of the H.10 daily rates), Japan, yen',
    series: 'G.5A / H.10, JAPAN YEN (FRED: AEXJPUS)',
    date: '2023 annual average, released 1 Feb 2024',
    url: 'https://www.federalreserve.gov/releases/g5a/20240201/',
  },
} as const;

/**
 * A fact is a positive number, or a decimal or fraction written as text ("7.4375", "119/16").
 * A number is read as the shortest decimal that prints it (0.6 means 6/10, not the binary
 * double nearest to it), which is what anyone writing it in a config file means.
 */
const FactValueSchema = z.union([
  z.number().positive(),
  z
    .string()
    .trim()
    .refine((text) => (parseRational(text)?.num ?? 0n) > 0n, {
      message: 'expected a positive decimal or fraction such as "118" or "119/16"',
    }),
]);

export const BananaFactsSchema = z.strictObject({
  /** Mass of one medium banana, in grams: the bridge between mass and banana count. */
  mediumBananaMassGrams: FactValueSchema,
  /** Length of one medium banana, in inches: the bridge between length and banana count. */
  mediumBananaLengthInches: FactValueSchema,
  /** Potassium in one medium banana, in milligrams: the bridge to potassium mass. */
  mediumBananaPotassiumMilligrams: FactValueSchema,
  /** Retail price of bananas, in US dollars per pound: the bridge between mass and money. */
  bananaPriceUsdPerPound: FactValueSchema,
  /** Japanese yen per US dollar: the exchange rate inside money. */
  yenPerUsd: FactValueSchema,
});

export type BananaFacts = z.infer<typeof BananaFactsSchema>;
export type BananaFactName = keyof BananaFacts;

export const DEFAULT_BANANA_FACTS: BananaFacts = Object.freeze({
  mediumBananaMassGrams: BANANA_FACT_SOURCES.mediumBananaMassGrams.value,
  mediumBananaLengthInches: BANANA_FACT_SOURCES.mediumBananaLengthInches.value,
  mediumBananaPotassiumMilligrams: BANANA_FACT_SOURCES.mediumBananaPotassiumMilligrams.value,
  bananaPriceUsdPerPound: BANANA_FACT_SOURCES.bananaPriceUsdPerPound.value,
  yenPerUsd: BANANA_FACT_SOURCES.yenPerUsd.value,
});

export type ExactFacts = { readonly [K in BananaFactName]: Rational };

/** Validates overrides on top of the defaults and turns every fact into an exact rational. */
export function resolveFacts(overrides: unknown): ExactFacts {
  const parsed = BananaFactsSchema.partial().safeParse(overrides ?? {});
  if (!parsed.success) {
    const detail = parsed.error.issues
      .map((issue) => `${issue.path.join('.') || '(facts)'}: ${issue.message}`)
      .join('; ');
    throw new ConversionError('INVALID_FACTS', `Invalid banana facts: ${detail}.`, {
      cause: parsed.error,
    });
  }
  const facts = { ...DEFAULT_BANANA_FACTS, ...stripUndefined(parsed.data) };
  const exact = {} as Record<BananaFactName, Rational>;
  for (const name of Object.keys(facts) as BananaFactName[]) {
    const value = facts[name];
    const r = parseRational(typeof value === 'number' ? String(value) : value.trim());
    if (!r || r.num <= 0n) {
      throw new ConversionError('INVALID_FACTS', `Invalid banana facts: ${name} is not positive.`);
    }
    exact[name] = r;
  }
  return Object.freeze(exact);
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}
