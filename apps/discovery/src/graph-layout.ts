import type { GraphLayout, LayoutNode } from '@conv/protocol';

/**
 * Where the status page draws each unit of the graph, so that paths read left to right.
 *
 * A layered drawing: each connected part is laid out from one end of its longest shortest
 * path (found by two breadth-first sweeps), every unit in the column of its distance from
 * that end. An edge then joins neighbouring columns (or, on an odd cycle, two units of one
 * column), so a path of conversions runs across the page, never back. Within a column, units
 * are ordered after their neighbours in the previous column (trees, such as the course's
 * graph, come out without a single crossing) and placed level with them where there is room.
 * Pure and deterministic: the same pairs, in any order, give the same picture.
 */
export type { GraphLayout, LayoutNode };
export type LayoutOptions = {
  /** Horizontal distance between columns. */
  readonly layerGap: number;
  /** Least vertical distance between two units of a column. */
  readonly rowGap: number;
  /** Room around the drawing (node circles are drawn around their centre). */
  readonly margin: number;
  /** Vertical room between two unconnected parts. */
  readonly partGap: number;
};

export const DEFAULT_LAYOUT: LayoutOptions = { layerGap: 76, rowGap: 54, margin: 30, partGap: 24 };

const byCodeUnit = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

export function layoutUnitGraph(
  units: readonly string[],
  edges: readonly (readonly [string, string])[],
  options: LayoutOptions = DEFAULT_LAYOUT,
): GraphLayout {
  const neighbours = new Map<string, string[]>();
  const add = (unit: string) => {
    if (!neighbours.has(unit)) neighbours.set(unit, []);
  };
  for (const unit of units) add(unit);
  for (const [a, b] of edges) {
    if (a === b) continue;
    add(a);
    add(b);
    const ofA = neighbours.get(a) ?? [];
    if (!ofA.includes(b)) {
      ofA.push(b);
      neighbours.get(b)?.push(a);
    }
  }
  for (const list of neighbours.values()) list.sort(byCodeUnit);
  const all = [...neighbours.keys()].sort(byCodeUnit);

  const parts: LayoutNode[][] = [];
  const placed = new Set<string>();
  for (const start of all) {
    if (placed.has(start)) continue;
    const part = [...distances(start, neighbours).keys()];
    for (const unit of part) placed.add(unit);
    parts.push(layoutPart(part, neighbours, options));
  }
  // Bigger parts first, then by their first unit: a stable picture as pools come and go.
  parts.sort((p, q) => q.length - p.length || byCodeUnit(firstUnit(p), firstUnit(q)));

  const nodes: LayoutNode[] = [];
  let top = options.margin;
  let columns = 0;
  for (const part of parts) {
    const minY = part.reduce((min, n) => Math.min(min, n.y), Infinity);
    const maxY = part.reduce((max, n) => Math.max(max, n.y), -Infinity);
    for (const n of part) nodes.push({ unit: n.unit, layer: n.layer, x: options.margin + n.x, y: top + n.y - minY });
    columns = part.reduce((max, n) => Math.max(max, n.layer), columns);
    top += maxY - minY + options.partGap + options.rowGap;
  }
  const height = parts.length === 0 ? 2 * options.margin : top - options.partGap - options.rowGap + options.margin;
  nodes.sort((p, q) => byCodeUnit(p.unit, q.unit));
  return { width: 2 * options.margin + columns * options.layerGap, height, nodes };
}

function firstUnit(part: readonly LayoutNode[]): string {
  return part.map((n) => n.unit).sort(byCodeUnit)[0] ?? '';
}

/** Breadth-first distances from `start`, in visiting order (neighbours in symbol order). */
function distances(start: string, neighbours: ReadonlyMap<string, readonly string[]>): Map<string, number> {
  const seen = new Map([[start, 0]]);
  const queue = [start];
  for (let i = 0; i < queue.length; i++) {
    const unit = queue[i] ?? '';
    const d = seen.get(unit) ?? 0;
    for (const next of neighbours.get(unit) ?? []) {
      if (seen.has(next)) continue;
      seen.set(next, d + 1);
      queue.push(next);
    }
  }
  return seen;
}

/** The unit farthest from `start`; among equals, the first in symbol order. */
function farthest(start: string, neighbours: ReadonlyMap<string, readonly string[]>): string {
  let best = start;
  let bestDistance = 0;
  for (const [unit, d] of distances(start, neighbours)) {
    if (d > bestDistance || (d === bestDistance && byCodeUnit(unit, best) < 0)) {
      best = unit;
      bestDistance = d;
    }
  }
  return best;
}

/** One connected part, x and y relative to it. */
function layoutPart(part: readonly string[], neighbours: ReadonlyMap<string, readonly string[]>, options: LayoutOptions): LayoutNode[] {
  const first = [...part].sort(byCodeUnit)[0] ?? '';
  // Two sweeps find an end of a longest shortest path (exactly, on a tree): the column of origin.
  const origin = farthest(farthest(first, neighbours), neighbours);
  const layerOf = distances(origin, neighbours);
  const layers: string[][] = [];
  // Visiting order groups each unit's successors together: the first ordering of every column.
  for (const [unit, d] of layerOf) (layers[d] ??= []).push(unit);

  const order = bestOrder(layers, layerOf, neighbours);
  const y = new Map<string, number>();
  const nodes: LayoutNode[] = [];
  for (const [layer, column] of order.entries()) {
    const desired = column.map((unit, i) => {
      const before = (neighbours.get(unit) ?? []).filter((n) => layerOf.get(n) === layer - 1);
      return before.length === 0 ? i * options.rowGap : before.reduce((sum, n) => sum + (y.get(n) ?? 0), 0) / before.length;
    });
    const placed = [...desired];
    for (let i = 1; i < placed.length; i++) placed[i] = Math.max(desired[i] ?? 0, (placed[i - 1] ?? 0) + options.rowGap);
    // Pushed apart downwards only, the column drifts; centre it back on where it wanted to be.
    const shift = desired.reduce((sum, d, i) => sum + d - (placed[i] ?? 0), 0) / Math.max(1, placed.length);
    for (const [i, unit] of column.entries()) {
      const at = (placed[i] ?? 0) + shift;
      y.set(unit, at);
      nodes.push({ unit, layer, x: layer * options.layerGap, y: at });
    }
  }
  return nodes;
}

/** Past this many edges in a part, counting crossings (quadratic) costs more than it helps. */
const ORDERING_EDGE_LIMIT = 400;

/**
 * Orders each column by the mean position of its neighbours in the column before (then after),
 * a few sweeps, keeping the ordering with the fewest crossings (the first one on a tie).
 */
function bestOrder(layers: readonly string[][], layerOf: ReadonlyMap<string, number>, neighbours: ReadonlyMap<string, readonly string[]>): string[][] {
  let current = layers.map((column) => [...column]);
  let edges = 0;
  for (const column of layers) for (const unit of column) edges += neighbours.get(unit)?.length ?? 0;
  if (edges / 2 > ORDERING_EDGE_LIMIT) return current;
  let best = current;
  let fewest = crossings(current, layerOf, neighbours);
  for (let sweep = 0; sweep < 4 && fewest > 0; sweep++) {
    const down = sweep % 2 === 0;
    const next = current.map((column) => [...column]);
    const indices = [...next.keys()];
    for (const layer of down ? indices.slice(1) : indices.reverse().slice(1)) {
      const beside = layer + (down ? -1 : 1);
      const position = new Map((next[beside] ?? []).map((unit, i) => [unit, i]));
      const column = next[layer] ?? [];
      const key = new Map(
        column.map((unit, i) => {
          const adjacent = (neighbours.get(unit) ?? []).filter((n) => layerOf.get(n) === beside);
          return [unit, adjacent.length === 0 ? i : adjacent.reduce((sum, n) => sum + (position.get(n) ?? 0), 0) / adjacent.length];
        }),
      );
      const index = new Map(column.map((unit, i) => [unit, i]));
      column.sort((a, b) => (key.get(a) ?? 0) - (key.get(b) ?? 0) || (index.get(a) ?? 0) - (index.get(b) ?? 0));
    }
    const count = crossings(next, layerOf, neighbours);
    if (count < fewest) {
      best = next;
      fewest = count;
    }
    current = next;
  }
  return best;
}

/** Edge crossings between neighbouring columns, for straight edges drawn in this order. */
function crossings(order: readonly string[][], layerOf: ReadonlyMap<string, number>, neighbours: ReadonlyMap<string, readonly string[]>): number {
  let total = 0;
  for (let layer = 0; layer + 1 < order.length; layer++) {
    const position = new Map((order[layer + 1] ?? []).map((unit, i) => [unit, i]));
    const spans: [number, number][] = [];
    for (const [i, unit] of (order[layer] ?? []).entries()) {
      for (const n of neighbours.get(unit) ?? []) if (layerOf.get(n) === layer + 1) spans.push([i, position.get(n) ?? 0]);
    }
    for (let a = 0; a < spans.length; a++) {
      for (let b = a + 1; b < spans.length; b++) {
        const [p, q] = [spans[a], spans[b]];
        if (p && q && (p[0] - q[0]) * (p[1] - q[1]) < 0) total++;
      }
    }
  }
  return total;
}
