import type { ExactFacts } from './banana-facts';
import { div, mul, ONE, q, type Rational, ZERO } from './rational';

export const UNIT_KINDS = [
  'length',
  'mass',
  'volume',
  'time',
  'temperature',
  'data',
  'count',
  'potassium',
  'money',
] as const;
export type UnitKind = (typeof UNIT_KINDS)[number];

/** The unit every other unit of a kind is defined against. */
export const BASE_UNIT: { readonly [K in UnitKind]: string } = {
  length: 'm',
  mass: 'kg',
  volume: 'l',
  time: 's',
  temperature: 'K',
  data: 'B',
  count: 'b',
  potassium: 'gK',
  money: '$',
};

/**
 * One unit: `amount` of it is `amount * scale + offset` of its kind's base unit. Only
 * temperatures have an offset.
 */
export type UnitDefinition = {
  readonly symbol: string;
  readonly name: string;
  readonly kind: UnitKind;
  readonly aliases: readonly string[];
  readonly scale: Rational;
  readonly offset: Rational;
  /** The fact a unit rests on when it is not fixed by definition (the yen). */
  readonly fact?: keyof ExactFacts;
};

/** 1 `from` base unit = `factor` `to` base units; the reverse bridge is implied. */
export type Bridge = {
  readonly from: UnitKind;
  readonly to: UnitKind;
  readonly factor: Rational;
  readonly fact: keyof ExactFacts;
};

// Exact definitions: NIST SP 811 Appendix B and NIST Handbook 44 Appendix C.
const INCH = q('0.0254'); // m, international inch (1959)
const FOOT = mul(INCH, q('12'));
const POUND = q('0.45359237'); // kg, international avoirdupois pound (1959)
const GALLON = q('3.785411784'); // l, US liquid gallon = 231 in^3
const FLUID_OUNCE = div(GALLON, q('128'));

type Row = [symbol: string, name: string, scale: Rational, aliases: string[]];

const TABLE: { readonly [K in UnitKind]?: readonly Row[] } = {
  length: [
    ['mm', 'millimetre', q('0.001'), ['millimeter', 'millimeters', 'millimetre', 'millimetres']],
    ['cm', 'centimetre', q('0.01'), ['centimeter', 'centimeters', 'centimetre', 'centimetres']],
    ['m', 'metre', ONE, ['meter', 'meters', 'metre', 'metres']],
    ['km', 'kilometre', q('1000'), ['kilometer', 'kilometers', 'kilometre', 'kilometres']],
    ['in', 'inch', INCH, ['inch', 'inches']],
    ['ft', 'foot', FOOT, ['foot', 'feet']],
    ['yd', 'yard', mul(FOOT, q('3')), ['yard', 'yards']],
    ['mi', 'mile (international)', mul(FOOT, q('5280')), ['mile', 'miles']],
    ['nmi', 'nautical mile', q('1852'), ['nautical-mile', 'nautical-miles']],
  ],
  mass: [
    ['mg', 'milligram', q('0.000001'), ['milligram', 'milligrams']],
    ['g', 'gram (of banana, or of anything)', q('0.001'), ['gram', 'grams']],
    ['kg', 'kilogram', ONE, ['kilogram', 'kilograms', 'kilo', 'kilos']],
    ['t', 'tonne (metric ton)', q('1000'), ['tonne', 'tonnes', 'metric-ton']],
    ['oz', 'ounce (avoirdupois)', div(POUND, q('16')), ['ounce', 'ounces']],
    ['lbs', 'pound (avoirdupois)', POUND, ['lb', 'pound', 'pounds']],
    ['st', 'stone', mul(POUND, q('14')), ['stone', 'stones']],
  ],
  volume: [
    ['ml', 'millilitre', q('0.001'), ['mL', 'milliliter', 'milliliters', 'millilitre', 'millilitres']],
    ['l', 'litre', ONE, ['L', 'liter', 'liters', 'litre', 'litres']],
    ['m3', 'cubic metre', q('1000'), ['m^3', 'cubic-meter', 'cubic-meters', 'cubic-metre', 'cubic-metres']],
    ['tsp', 'teaspoon (US)', div(FLUID_OUNCE, q('6')), ['teaspoon', 'teaspoons']],
    ['tbsp', 'tablespoon (US)', div(FLUID_OUNCE, q('2')), ['tablespoon', 'tablespoons']],
    ['floz', 'fluid ounce (US)', FLUID_OUNCE, ['fl-oz', 'fluid-ounce', 'fluid-ounces']],
    ['cup', 'cup (US customary)', div(GALLON, q('16')), ['cups']],
    ['pt', 'pint (US liquid)', div(GALLON, q('8')), ['pint', 'pints']],
    ['qt', 'quart (US liquid)', div(GALLON, q('4')), ['quart', 'quarts']],
    ['gal', 'gallon (US liquid)', GALLON, ['gallon', 'gallons']],
  ],
  time: [
    ['ms', 'millisecond', q('0.001'), ['millisecond', 'milliseconds']],
    ['s', 'second', ONE, ['sec', 'second', 'seconds']],
    ['min', 'minute', q('60'), ['minute', 'minutes']],
    ['h', 'hour', q('3600'), ['hr', 'hour', 'hours']],
    ['d', 'day', q('86400'), ['day', 'days']],
    ['wk', 'week', q('604800'), ['week', 'weeks']],
  ],
  data: [
    ['bit', 'bit', q('1/8'), ['bits']],
    ['B', 'byte', ONE, ['byte', 'bytes']],
    ['kB', 'kilobyte', q('1e3'), ['kilobyte', 'kilobytes']],
    ['MB', 'megabyte', q('1e6'), ['megabyte', 'megabytes']],
    ['GB', 'gigabyte', q('1e9'), ['gigabyte', 'gigabytes']],
    ['TB', 'terabyte', q('1e12'), ['terabyte', 'terabytes']],
    ['KiB', 'kibibyte', q(`${2 ** 10}`), ['kibibyte', 'kibibytes']],
    ['MiB', 'mebibyte', q(`${2 ** 20}`), ['mebibyte', 'mebibytes']],
    ['GiB', 'gibibyte', q(`${2 ** 30}`), ['gibibyte', 'gibibytes']],
    ['TiB', 'tebibyte', q(`${2 ** 40}`), ['tebibyte', 'tebibytes']],
  ],
  count: [['b', 'banana (medium)', ONE, ['banana', 'bananas']]],
  // Its own kind, so that grams of bananas are never routed through their potassium.
  potassium: [
    ['gK', 'gram of potassium', ONE, ['gpotassium', 'g-potassium', 'grams-potassium']],
    ['mgK', 'milligram of potassium', q('0.001'), ['mgpotassium', 'mg-potassium', 'milligrams-potassium']],
  ],
};

/** Every unit of the catalog, given the (validated, exact) banana facts. */
export function unitDefinitions(facts: ExactFacts): UnitDefinition[] {
  const units: UnitDefinition[] = [];
  for (const kind of UNIT_KINDS) {
    for (const [symbol, name, scale, aliases] of TABLE[kind] ?? []) {
      units.push({ symbol, name, kind, aliases, scale, offset: ZERO });
    }
  }
  // Kelvin is the base; x degC = x + 273.15 K; x degF = (x + 459.67) * 5/9 K.
  const temperature = (symbol: string, name: string, scale: Rational, offset: Rational, aliases: string[]) =>
    units.push({ symbol, name, kind: 'temperature', aliases, scale, offset });
  temperature('K', 'kelvin', ONE, ZERO, ['kelvin', 'kelvins', 'degK']);
  temperature('C', 'degree Celsius', ONE, q('273.15'), ['degC', '°C', 'celsius', 'centigrade']);
  temperature('F', 'degree Fahrenheit', q('5/9'), mul(q('459.67'), q('5/9')), ['degF', '°F', 'fahrenheit']);
  units.push(
    { symbol: '$', name: 'US dollar', kind: 'money', aliases: ['usd', 'USD', 'dollar', 'dollars'], scale: ONE, offset: ZERO },
    {
      symbol: 'y',
      name: 'Japanese yen',
      kind: 'money',
      aliases: ['jpy', 'JPY', 'yen', '¥'],
      scale: div(ONE, facts.yenPerUsd),
      offset: ZERO,
      fact: 'yenPerUsd',
    },
  );
  return units;
}

/** The only ways from one kind of quantity to another: facts about a medium banana. */
export function bridges(facts: ExactFacts): Bridge[] {
  return [
    { from: 'count', to: 'mass', factor: mul(facts.mediumBananaMassGrams, q('0.001')), fact: 'mediumBananaMassGrams' },
    { from: 'count', to: 'length', factor: mul(facts.mediumBananaLengthInches, INCH), fact: 'mediumBananaLengthInches' },
    {
      from: 'count',
      to: 'potassium',
      factor: mul(facts.mediumBananaPotassiumMilligrams, q('0.001')),
      fact: 'mediumBananaPotassiumMilligrams',
    },
    // "Ounces of bananas <-> $": 1 kg of bananas costs price / 0.45359237 dollars.
    { from: 'mass', to: 'money', factor: div(facts.bananaPriceUsdPerPound, POUND), fact: 'bananaPriceUsdPerPound' },
  ];
}
