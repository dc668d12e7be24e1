import { type BananaFacts, type ExactFacts, resolveFacts } from './banana-facts';
import { MAX_UNIT_LENGTH, quote } from '@conv/protocol';
import { ConversionError } from './errors';
import { compileExact } from './exact-converter';
import { div, formatRational, isZero, mul, ONE, type Rational, sub } from './rational';
import { BASE_UNIT, bridges, type UnitDefinition, type UnitKind, unitDefinitions } from './units';

export type UnitInfo = {
  readonly symbol: string;
  readonly name: string;
  readonly kind: UnitKind;
  readonly aliases: readonly string[];
  /** Human-readable exact definition, e.g. "1 ft = 0.3048 m". */
  readonly definition: string;
};

/** An exact fraction, as BigInts in lowest terms with a positive denominator. */
export type Fraction = { readonly numerator: bigint; readonly denominator: bigint };

/** `to = from * scale + offset`, exactly, and the kinds of quantity the conversion crossed. */
export type ExactConversion = {
  readonly from: string;
  readonly to: string;
  readonly scale: Fraction;
  readonly offset: Fraction;
  /** Kinds visited in order, e.g. ['mass', 'count', 'length'] for kg -> in. */
  readonly kinds: readonly UnitKind[];
};

export interface Catalog {
  /** The canonical symbol for a symbol or alias ('feet' -> 'ft'), or undefined. */
  resolve(symbolOrAlias: string): string | undefined;
  /** Converts exactly and rounds once; throws ConversionError. */
  convert(amount: number, from: string, to: string): number;
  /** A precomputed converter for one pair; throws ConversionError now, or per call on bad amounts. */
  converter(from: string, to: string): (amount: number) => number;
  /** The exact scale and offset for a pair; throws ConversionError. */
  exact(from: string, to: string): ExactConversion;
  /** Every unit, in catalog order (by kind, then size). */
  units(): readonly UnitInfo[];
  /** The exact banana facts this catalog was built with, as decimal or fraction text. */
  facts(): Readonly<Record<keyof BananaFacts, string>>;
}

export type CatalogOptions = { readonly facts?: Partial<BananaFacts> };

/** Builds a catalog; `facts` overrides some or all banana facts and is validated with zod. */
export function createCatalog(options: CatalogOptions = {}): Catalog {
  const exactFacts = resolveFacts(options.facts);
  return new UnitCatalog(exactFacts);
}

// Words are also found regardless of case ('Feet', 'CELSIUS'); symbols never are ('B' is a
// byte and 'b' a banana, 'mB' is not 'MB').
const WORD = /^[a-z][a-z-]{2,}$/i;

class UnitCatalog implements Catalog {
  readonly #byName = new Map<string, UnitDefinition>();
  readonly #byWord = new Map<string, UnitDefinition>();
  readonly #infos: readonly UnitInfo[];
  readonly #kindEdges = new Map<UnitKind, { to: UnitKind; factor: Rational }[]>();
  readonly #converters = new Map<string, Map<string, (amount: number) => number>>();
  readonly #facts: ExactFacts;

  constructor(facts: ExactFacts) {
    this.#facts = facts;
    const units = unitDefinitions(facts);
    for (const unit of units) {
      this.#add(this.#byName, unit.symbol, unit);
      for (const alias of unit.aliases) {
        this.#add(this.#byName, alias, unit);
        if (WORD.test(alias)) this.#add(this.#byWord, alias.toLowerCase(), unit);
      }
    }
    for (const bridge of bridges(facts)) {
      this.#edge(bridge.from, bridge.to, bridge.factor);
      this.#edge(bridge.to, bridge.from, div(ONE, bridge.factor));
    }
    this.#infos = Object.freeze(units.map((unit) => Object.freeze(describe(unit))));
  }

  resolve(symbolOrAlias: string): string | undefined {
    return (this.#byName.get(symbolOrAlias) ?? this.#byWord.get(symbolOrAlias.toLowerCase()))?.symbol;
  }

  convert(amount: number, from: string, to: string): number {
    const cached = this.#converters.get(from)?.get(to);
    return (cached ?? this.converter(from, to))(amount);
  }

  converter(from: string, to: string): (amount: number) => number {
    const cached = this.#converters.get(from)?.get(to);
    if (cached) return cached;
    const plan = this.#plan(from, to);
    const kernel = compileExact(plan.scale, plan.offset);
    const source = plan.from.symbol;
    const target = plan.to.symbol;
    const run = (amount: number): number => {
      if (!Number.isFinite(amount)) {
        throw new ConversionError('INVALID_AMOUNT', `Expected a finite amount, received ${String(amount)}.`);
      }
      const result = kernel(amount);
      if (!Number.isFinite(result)) {
        throw new ConversionError(
          'OUT_OF_RANGE',
          `Converting ${amount} ${source} to ${target} gives a result beyond the largest double.`,
        );
      }
      return result;
    };
    let row = this.#converters.get(from);
    if (!row) this.#converters.set(from, (row = new Map<string, (amount: number) => number>()));
    row.set(to, run);
    return run;
  }

  exact(from: string, to: string): ExactConversion {
    const plan = this.#plan(from, to);
    return Object.freeze({
      from: plan.from.symbol,
      to: plan.to.symbol,
      scale: fraction(plan.scale),
      offset: fraction(plan.offset),
      kinds: Object.freeze(plan.kinds),
    });
  }

  units(): readonly UnitInfo[] {
    return this.#infos;
  }

  facts(): Readonly<Record<keyof BananaFacts, string>> {
    const entries = Object.entries(this.#facts).map(([name, value]) => [name, formatRational(value)]);
    return Object.freeze(Object.fromEntries(entries)) as Record<keyof BananaFacts, string>;
  }

  #unit(symbolOrAlias: string): UnitDefinition {
    const unit = this.#byName.get(symbolOrAlias) ?? this.#byWord.get(symbolOrAlias.toLowerCase());
    if (!unit) {
      throw new ConversionError(
        'UNKNOWN_UNIT',
        `Unknown unit ${quote(symbolOrAlias, MAX_UNIT_LENGTH)}: expected a unit symbol or alias from the catalog, such as ft, kg or b.`,
      );
    }
    return unit;
  }

  /** Composes from -> base(from kind) -> bridges -> base(to kind) -> to as one exact affine map. */
  #plan(fromText: string, toText: string) {
    const from = this.#unit(fromText);
    const to = this.#unit(toText);
    const route = this.#route(from.kind, to.kind);
    if (!route) {
      throw new ConversionError(
        'INCOMPATIBLE_UNITS',
        `Cannot convert ${quote(fromText, MAX_UNIT_LENGTH)} (${from.kind}) to ${quote(toText, MAX_UNIT_LENGTH)} (${to.kind}): ` +
          `no banana fact bridges ${from.kind} and ${to.kind}.`,
      );
    }
    // Only temperatures carry offsets and they have no bridges, so offsets never cross kinds.
    const scale = div(mul(from.scale, route.factor), to.scale);
    const offset = div(sub(from.offset, to.offset), to.scale);
    return { from, to, scale, offset, kinds: route.kinds };
  }

  /** Breadth-first over kinds of quantity; the bridges form a tree, so the route is unique. */
  #route(from: UnitKind, to: UnitKind): { factor: Rational; kinds: UnitKind[] } | undefined {
    const seen = new Map<UnitKind, { factor: Rational; kinds: UnitKind[] }>([[from, { factor: ONE, kinds: [from] }]]);
    const queue: UnitKind[] = [from];
    for (let kind = queue.shift(); kind !== undefined; kind = queue.shift()) {
      const here = seen.get(kind);
      if (!here) continue;
      if (kind === to) return here;
      for (const edge of this.#kindEdges.get(kind) ?? []) {
        if (seen.has(edge.to)) continue;
        seen.set(edge.to, { factor: mul(here.factor, edge.factor), kinds: [...here.kinds, edge.to] });
        queue.push(edge.to);
      }
    }
    return undefined;
  }

  #edge(from: UnitKind, to: UnitKind, factor: Rational): void {
    let list = this.#kindEdges.get(from);
    if (!list) this.#kindEdges.set(from, (list = []));
    list.push({ to, factor });
  }

  #add(map: Map<string, UnitDefinition>, key: string, unit: UnitDefinition): void {
    const existing = map.get(key);
    if (existing && existing !== unit) {
      throw new Error(`catalog defect: ${key} names both ${existing.symbol} and ${unit.symbol}`);
    }
    map.set(key, unit);
  }
}

function fraction(r: Rational): Fraction {
  return Object.freeze({ numerator: r.num, denominator: r.den });
}

function describe(unit: UnitDefinition): UnitInfo {
  const base = BASE_UNIT[unit.kind];
  const scale = formatRational(unit.scale);
  let definition: string;
  if (unit.symbol === base) definition = `base unit of ${unit.kind}`;
  else if (isZero(unit.offset)) definition = `1 ${unit.symbol} = ${scale} ${base}`;
  else definition = `x ${unit.symbol} = x * ${scale} + ${formatRational(unit.offset)} ${base}`;
  if (unit.fact) definition += ` (banana fact ${unit.fact})`;
  return { symbol: unit.symbol, name: unit.name, kind: unit.kind, aliases: Object.freeze([...unit.aliases]), definition };
}

let defaultCatalog: Catalog | undefined;
const defaults = (): Catalog => (defaultCatalog ??= createCatalog());

/** The catalog with the default banana facts, built on first use (nothing runs at import). */
export const catalog: Catalog = Object.freeze({
  resolve: (symbolOrAlias: string) => defaults().resolve(symbolOrAlias),
  convert: (amount: number, from: string, to: string) => defaults().convert(amount, from, to),
  converter: (from: string, to: string) => defaults().converter(from, to),
  exact: (from: string, to: string) => defaults().exact(from, to),
  units: () => defaults().units(),
  facts: () => defaults().facts(),
});

/** Converts with the default catalog: `convert(1, 'ft', 'm') === 0.3048`. */
export function convert(amount: number, from: string, to: string): number {
  return defaults().convert(amount, from, to);
}
