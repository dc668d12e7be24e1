import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type GraphLayout, DEFAULT_LAYOUT, layoutUnitGraph } from '../src/graph-layout';

type Pair = readonly [string, string];
/** The course's eleven pairs. */
const COURSE: Pair[] = [
  ['ft', 'in'], ['in', 'cm'], ['cm', 'm'], ['kg', 'g'], ['kg', 'lbs'], ['lbs', 'oz'],
  ['oz', '$'], ['lbs', 'b'], ['b', 'in'], ['b', 'gK'], ['$', 'y'],
];
const unitsOf = (pairs: readonly Pair[]) => [...new Set(pairs.flat())].sort();

function at(layout: GraphLayout, unit: string): { x: number; y: number } {
  const node = layout.nodes.find((n) => n.unit === unit);
  if (!node) throw new Error(`${unit} is not in the layout`);
  return node;
}

/** Pairs of edges, drawn as straight segments, that cross (edges sharing a unit never count). */
function crossingsOf(layout: GraphLayout, pairs: readonly Pair[]): string[] {
  const orient = (p: { x: number; y: number }, q: { x: number; y: number }, r: { x: number; y: number }) => Math.sign((q.x - p.x) * (r.y - p.y) - (q.y - p.y) * (r.x - p.x));
  const found: string[] = [];
  for (let i = 0; i < pairs.length; i++) {
    for (let j = i + 1; j < pairs.length; j++) {
      const [a, b] = pairs[i] ?? ['', ''];
      const [c, d] = pairs[j] ?? ['', ''];
      if (a === c || a === d || b === c || b === d) continue;
      const [p, q, r, s] = [at(layout, a), at(layout, b), at(layout, c), at(layout, d)];
      if (orient(p, q, r) * orient(p, q, s) < 0 && orient(r, s, p) * orient(r, s, q) < 0) found.push(`${a}-${b} x ${c}-${d}`);
    }
  }
  return found;
}

function overlaps(layout: GraphLayout): string[] {
  const found: string[] = [];
  for (const [i, n] of layout.nodes.entries()) {
    for (const m of layout.nodes.slice(i + 1)) {
      if (Math.hypot(n.x - m.x, n.y - m.y) < Math.min(DEFAULT_LAYOUT.rowGap, DEFAULT_LAYOUT.layerGap) - 1e-9) found.push(`${n.unit}/${m.unit}`);
    }
  }
  return found;
}

describe('the unit graph on the status page', () => {
  it("draws the course's graph without a crossing, $ -> oz -> lbs -> b -> in -> cm running left to right", () => {
    const layout = layoutUnitGraph(unitsOf(COURSE), COURSE);
    expect(crossingsOf(layout, COURSE)).toEqual([]);
    const path = ['$', 'oz', 'lbs', 'b', 'in', 'cm', 'm'].map((unit) => at(layout, unit).x);
    expect(path).toEqual([...path].sort((p, q) => p - q));
    expect(new Set(path).size).toBe(path.length);
    // Every pair joins two neighbouring columns: nothing runs back or skips a column.
    for (const [a, b] of COURSE) expect(Math.abs(at(layout, a).x - at(layout, b).x)).toBe(DEFAULT_LAYOUT.layerGap);
    expect(overlaps(layout)).toEqual([]);
    expect(layout.nodes.map((n) => n.unit)).toEqual(unitsOf(COURSE));
  });

  it('starts from one end of the longest route and keeps it on one level where nothing is in the way', () => {
    const layout = layoutUnitGraph(unitsOf(COURSE), COURSE);
    expect(layout.nodes.filter((n) => n.layer === 0).map((n) => n.unit)).toEqual(['y']);
    expect(at(layout, 'm').x).toBe(Math.max(...layout.nodes.map((n) => n.x)));
    expect(['y', '$', 'oz', 'lbs'].map((unit) => at(layout, unit).y)).toEqual(Array(4).fill(at(layout, 'y').y));
  });

  it('fits inside its own width and height, margins included', () => {
    const layout = layoutUnitGraph(unitsOf(COURSE), COURSE);
    for (const n of layout.nodes) {
      expect(n.x).toBeGreaterThanOrEqual(DEFAULT_LAYOUT.margin);
      expect(n.x).toBeLessThanOrEqual(layout.width - DEFAULT_LAYOUT.margin);
      expect(n.y).toBeGreaterThanOrEqual(DEFAULT_LAYOUT.margin);
      expect(n.y).toBeLessThanOrEqual(layout.height - DEFAULT_LAYOUT.margin);
    }
    expect(layout.width).toBe(2 * DEFAULT_LAYOUT.margin + 7 * DEFAULT_LAYOUT.layerGap);
  });

  it('gives the same picture whatever order and direction the pairs come in', () => {
    const shuffled = [...COURSE].reverse().map(([a, b], i): Pair => (i % 2 === 0 ? [b, a] : [a, b]));
    expect(layoutUnitGraph([...unitsOf(COURSE)].reverse(), shuffled)).toEqual(layoutUnitGraph(unitsOf(COURSE), COURSE));
  });

  it('stacks unconnected parts, the biggest on top, and draws a cycle without overlaps', () => {
    const pairs: Pair[] = [['C', 'F'], ['F', 'K'], ['K', 'C'], ['ft', 'in'], ['in', 'cm'], ['cm', 'm'], ['kB', 'B']];
    const layout = layoutUnitGraph([...unitsOf(pairs), 'lonely'], pairs);
    expect(overlaps(layout)).toEqual([]);
    const top = (units: string[]) => Math.min(...units.map((u) => at(layout, u).y));
    const bottom = (units: string[]) => Math.max(...units.map((u) => at(layout, u).y));
    expect(bottom(['ft', 'in', 'cm', 'm'])).toBeLessThan(top(['C', 'F', 'K']));
    expect(bottom(['C', 'F', 'K'])).toBeLessThan(top(['B', 'kB']));
    expect(bottom(['B', 'kB'])).toBeLessThan(top(['lonely']));
    expect(layoutUnitGraph([], [])).toEqual({ width: 2 * DEFAULT_LAYOUT.margin, height: 2 * DEFAULT_LAYOUT.margin, nodes: [] });
  });

  it('draws any tree without a crossing, every edge between neighbouring columns, no two units on one spot', () => {
    // Random trees: unit i > 0 hangs from a random earlier unit; symbols shuffled.
    const tree = fc
      .integer({ min: 1, max: 40 })
      .chain((n) => fc.tuple(fc.array(fc.nat(), { minLength: n - 1, maxLength: n - 1 }), fc.shuffledSubarray([...Array(n).keys()], { minLength: n, maxLength: n })))
      .map(([parents, names]) => {
        const name = (i: number) => `u${names[i] ?? i}`;
        return { units: names.map((_, i) => name(i)), pairs: parents.map((p, i): Pair => [name(i + 1), name(p % (i + 1))]) };
      });
    fc.assert(
      fc.property(tree, ({ units, pairs }) => {
        const layout = layoutUnitGraph(units, pairs);
        expect(crossingsOf(layout, pairs)).toEqual([]);
        for (const [a, b] of pairs) expect(Math.abs(at(layout, a).x - at(layout, b).x)).toBe(DEFAULT_LAYOUT.layerGap);
        expect(overlaps(layout)).toEqual([]);
      }),
      { numRuns: 300 },
    );
  });

  it('lays out any graph with every edge spanning at most one column and no two units on one spot', () => {
    const graph = fc.array(fc.tuple(fc.integer({ min: 0, max: 25 }), fc.integer({ min: 0, max: 25 })), { maxLength: 60 }).map((raw) => raw.map(([a, b]): Pair => [`u${a}`, `u${b}`]));
    fc.assert(
      fc.property(graph, (pairs) => {
        const layout = layoutUnitGraph(unitsOf(pairs), pairs);
        for (const [a, b] of pairs) if (a !== b) expect(Math.abs(at(layout, a).x - at(layout, b).x)).toBeLessThanOrEqual(DEFAULT_LAYOUT.layerGap);
        expect(overlaps(layout)).toEqual([]);
      }),
      { numRuns: 300 },
    );
  });
});
