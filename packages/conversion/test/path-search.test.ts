import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { PathFinder, type PathResult, UnitGraph } from '../src/index';

const COURSE: [string, string][] = [
  ['ft', 'in'], ['in', 'cm'], ['cm', 'm'], ['kg', 'g'], ['kg', 'lbs'], ['lbs', 'oz'],
  ['oz', '$'], ['lbs', 'b'], ['b', 'in'], ['b', 'gK'], ['$', 'y'],
];

const units = (result: PathResult): string[] =>
  result.ok ? [result.hops[0]?.from ?? '', ...result.hops.map((hop) => hop.to)] : [result.reason];

describe('UnitGraph.findPath', () => {
  const graph = UnitGraph.fromPairs(COURSE);

  it('finds the fewest hops, in order, in either direction of a pair', () => {
    expect(graph.findPath('ft', 'in')).toEqual({ ok: true, hops: [{ from: 'ft', to: 'in' }] });
    expect(graph.findPath('in', 'ft')).toEqual({ ok: true, hops: [{ from: 'in', to: 'ft' }] });
    expect(units(graph.findPath('gK', 'y'))).toEqual(['gK', 'b', 'lbs', 'oz', '$', 'y']);
    expect(units(graph.findPath('$', 'cm'))).toEqual(['$', 'oz', 'lbs', 'b', 'in', 'cm']);
    expect(units(graph.findPath('lbs', 'kg'))).toEqual(['lbs', 'kg']);
  });

  it('answers same-unit, unknown-unit and no-path distinctly', () => {
    const split = UnitGraph.fromPairs([...COURSE, ['C', 'F'], ['F', 'K']]);
    expect(split.findPath('ft', 'ft')).toEqual({ ok: false, reason: 'same-unit' });
    expect(split.findPath('zz', 'zz')).toEqual({ ok: false, reason: 'same-unit' });
    expect(split.findPath('ft', 'parsec')).toEqual({ ok: false, reason: 'unknown-unit' });
    expect(split.findPath('parsec', 'ft')).toEqual({ ok: false, reason: 'unknown-unit' });
    expect(split.findPath('ft', 'K')).toEqual({ ok: false, reason: 'no-path' });
    expect(units(split.findPath('C', 'K'))).toEqual(['C', 'F', 'K']);
  });

  it('does not need the symbols to be in the catalog, and is case-sensitive', () => {
    const odd = UnitGraph.fromPairs([['ban', 'B'], ['B', 'bit'], ['ban', 'b']]);
    expect(units(odd.findPath('bit', 'b'))).toEqual(['bit', 'B', 'ban', 'b']);
    expect(odd.has('Ban')).toBe(false);
  });

  it('terminates on cycles and takes the shorter way round', () => {
    const ring = UnitGraph.fromPairs([['a', 'b'], ['b', 'c'], ['c', 'd'], ['d', 'e'], ['e', 'a']]);
    expect(units(ring.findPath('a', 'd'))).toEqual(['a', 'e', 'd']);
    expect(units(ring.findPath('b', 'e'))).toEqual(['b', 'a', 'e']);
    expect(ring.findPath('a', 'zz')).toEqual({ ok: false, reason: 'unknown-unit' });
  });

  it('breaks ties by the smallest sequence of symbols, whatever the registration order', () => {
    // Two shortest ways from s to t: s-m-t and s-k-t; k < m, so s-k-t. Then s-k-x-t vs s-j-y-t.
    const pairs: [string, string][] = [['s', 'm'], ['m', 't'], ['s', 'k'], ['k', 't'], ['s', 'z'], ['z', 't']];
    for (const order of [pairs, [...pairs].reverse(), pairs.map(([a, b]) => [b, a] as [string, string])]) {
      expect(units(UnitGraph.fromPairs(order).findPath('s', 't'))).toEqual(['s', 'k', 't']);
      expect(units(UnitGraph.fromPairs(order).findPath('t', 's'))).toEqual(['t', 'k', 's']);
    }
    const deeper = UnitGraph.fromPairs([['s', 'j'], ['j', 'y'], ['y', 't'], ['s', 'k'], ['k', 'a'], ['a', 't']]);
    expect(units(deeper.findPath('s', 't'))).toEqual(['s', 'j', 'y', 't']);
    // Code-unit order: '$' < 'B' < 'b'.
    const money = UnitGraph.fromPairs([['x', 'b'], ['b', 'z'], ['x', 'B'], ['B', 'z'], ['x', '$'], ['$', 'z']]);
    expect(units(money.findPath('x', 'z'))).toEqual(['x', '$', 'z']);
  });

  it('counts duplicate and reversed pairs once and ignores a unit paired with itself', () => {
    const graph2 = UnitGraph.fromPairs([['a', 'b'], ['b', 'a'], ['a', 'b'], ['c', 'c']]);
    expect(graph2.pairCount).toBe(1);
    expect(graph2.unitCount).toBe(3);
    expect(graph2.neighbours('a')).toEqual(['b']);
    expect(graph2.findPath('a', 'c')).toEqual({ ok: false, reason: 'no-path' });
  });

  it('returns frozen results', () => {
    const result = graph.findPath('ft', 'cm');
    expect(Object.isFrozen(result)).toBe(true);
    if (result.ok) expect(Object.isFrozen(result.hops)).toBe(true);
  });
});

/** A registry stand-in: a real mutable set of pairs with a version that bumps on change. */
class LivePairs {
  version = 0;
  reads = 0;
  readonly #pairs = new Map<string, [string, string]>();
  add(a: string, b: string): void {
    this.#pairs.set(`${a}\u0000${b}`, [a, b]);
    this.version++;
  }
  remove(a: string, b: string): void {
    this.#pairs.delete(`${a}\u0000${b}`);
    this.version++;
  }
  pairs(): Iterable<readonly [string, string]> {
    this.reads++;
    return [...this.#pairs.values()];
  }
}

describe('PathFinder', () => {
  it('answers repeated questions from its cache without rereading the pairs', () => {
    const live = new LivePairs();
    for (const [a, b] of COURSE) live.add(a, b);
    const finder = new PathFinder(live);
    const first = finder.findPath('gK', 'y');
    expect(live.reads).toBe(1);
    expect(finder.findPath('gK', 'y')).toBe(first);
    expect(finder.findPath('ft', 'm')).toEqual(finder.graph.findPath('ft', 'm'));
    expect(live.reads).toBe(1);
  });

  it('rebuilds and drops its cache when the source version changes between calls', () => {
    const live = new LivePairs();
    for (const [a, b] of COURSE) live.add(a, b);
    const finder = new PathFinder(live);
    expect(units(finder.findPath('gK', 'y'))).toEqual(['gK', 'b', 'lbs', 'oz', '$', 'y']);
    expect(finder.findPath('ft', 'K')).toEqual({ ok: false, reason: 'unknown-unit' });

    live.add('gK', '$'); // a shortcut appears
    expect(units(finder.findPath('gK', 'y'))).toEqual(['gK', '$', 'y']);
    live.add('K', 'ft');
    expect(units(finder.findPath('ft', 'K'))).toEqual(['ft', 'K']);

    live.remove('$', 'y'); // the only way to yen disappears
    expect(finder.findPath('gK', 'y')).toEqual({ ok: false, reason: 'unknown-unit' });
    live.add('y', 'b');
    expect(units(finder.findPath('gK', 'y'))).toEqual(['gK', 'b', 'y']);
    expect(live.reads).toBe(5);
  });

  it('does not rebuild while the version stays the same, even if asked about new units', () => {
    const live = new LivePairs();
    live.add('a', 'b');
    const finder = new PathFinder(live);
    expect(finder.findPath('a', 'c')).toEqual({ ok: false, reason: 'unknown-unit' });
    expect(finder.findPath('a', 'c')).toEqual({ ok: false, reason: 'unknown-unit' });
    expect(live.reads).toBe(1);
  });
});

describe('tie-break rule, checked against brute force', () => {
  it('returns the lexicographically smallest of all shortest paths on random small graphs', () => {
    const symbol = fc.constantFrom('a', 'B', 'b', 'c', '$', 'd', 'e', 'f');
    fc.assert(
      fc.property(fc.array(fc.tuple(symbol, symbol), { maxLength: 14 }), symbol, symbol, (pairs, from, to) => {
        const got = UnitGraph.fromPairs(pairs).findPath(from, to);
        const known = new Set(pairs.flat());
        if (from === to) {
          expect(got).toEqual({ ok: false, reason: 'same-unit' });
          return;
        }
        if (!known.has(from) || !known.has(to)) {
          expect(got).toEqual({ ok: false, reason: 'unknown-unit' });
          return;
        }
        // Every simple path, by depth-first search.
        const paths: string[][] = [];
        const walk = (path: string[]): void => {
          const last = path[path.length - 1] ?? '';
          if (last === to) {
            paths.push(path);
            return;
          }
          for (const [a, b] of pairs) {
            const next = a === last ? b : b === last ? a : undefined;
            if (next !== undefined && !path.includes(next)) walk([...path, next]);
          }
        };
        walk([from]);
        if (paths.length === 0) {
          expect(got).toEqual({ ok: false, reason: 'no-path' });
          return;
        }
        const fewest = Math.min(...paths.map((p) => p.length));
        const best = paths
          .filter((p) => p.length === fewest)
          .sort((p, q) => {
            for (let i = 0; i < p.length; i++) if (p[i] !== q[i]) return (p[i] ?? '') < (q[i] ?? '') ? -1 : 1;
            return 0;
          })[0];
        expect(units(got)).toEqual(best);
      }),
      { numRuns: 1500 },
    );
  });
});
