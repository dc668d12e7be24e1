/** One conversion step of a path: a registered pair, used in the direction `from -> to`. */
export type Hop = { readonly from: string; readonly to: string };

export type PathFailure = 'same-unit' | 'unknown-unit' | 'no-path';

export type PathResult =
  | { readonly ok: true; readonly hops: readonly Hop[] }
  | { readonly ok: false; readonly reason: PathFailure };

/** Where a PathFinder gets its pairs; `version` must change whenever `pairs()` would. */
export type PairSource = {
  readonly version: number;
  pairs(): Iterable<readonly [string, string]>;
};

const SAME_UNIT: PathResult = Object.freeze({ ok: false, reason: 'same-unit' });
const UNKNOWN_UNIT: PathResult = Object.freeze({ ok: false, reason: 'unknown-unit' });
const NO_PATH: PathResult = Object.freeze({ ok: false, reason: 'no-path' });

const bySymbol = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

/**
 * An immutable graph whose nodes are unit symbols and whose edges are unordered pairs.
 * Symbols are opaque: they need not be in the catalog.
 *
 * Tie-break: units are numbered in symbol order (JavaScript string order: UTF-16 code units,
 * which is code-point order for every symbol outside the astral planes) and the breadth-first
 * search visits neighbours in that order. So among all paths with the fewest hops, the one
 * whose sequence of units is lexicographically smallest wins, every time, whatever order the
 * pairs were registered in.
 */
export class UnitGraph {
  readonly #symbols: readonly string[];
  readonly #index: ReadonlyMap<string, number>;
  /** Compressed adjacency: neighbours of node i are targets[offsets[i] .. offsets[i + 1]). */
  readonly #offsets: Int32Array;
  readonly #targets: Int32Array;
  // Scratch space reused by every search: visit stamps avoid clearing an array per call.
  readonly #stamp: Uint32Array;
  readonly #parent: Int32Array;
  readonly #queue: Int32Array;
  #epoch = 0;

  private constructor(symbols: string[], adjacency: number[][]) {
    this.#symbols = Object.freeze(symbols);
    this.#index = new Map(symbols.map((symbol, i) => [symbol, i]));
    const n = symbols.length;
    this.#offsets = new Int32Array(n + 1);
    let total = 0;
    for (let i = 0; i < n; i++) {
      this.#offsets[i] = total;
      total += adjacency[i]?.length ?? 0;
    }
    this.#offsets[n] = total;
    this.#targets = new Int32Array(total);
    for (let i = 0; i < n; i++) this.#targets.set(adjacency[i] ?? [], this.#offsets[i]);
    this.#stamp = new Uint32Array(n);
    this.#parent = new Int32Array(n);
    this.#queue = new Int32Array(n);
  }

  /** Builds a graph; duplicate pairs and either orientation of a pair count once. */
  static fromPairs(pairs: Iterable<readonly [string, string]>): UnitGraph {
    const edges: [string, string][] = [];
    const symbols = new Set<string>();
    for (const [a, b] of pairs) {
      symbols.add(a);
      symbols.add(b);
      // A unit paired with itself is registered but converts nowhere new.
      if (a !== b) edges.push([a, b]);
    }
    const sorted = [...symbols].sort(bySymbol);
    const index = new Map(sorted.map((symbol, i) => [symbol, i]));
    const adjacency: number[][] = sorted.map(() => []);
    for (const [a, b] of edges) {
      const i = index.get(a) ?? 0;
      const j = index.get(b) ?? 0;
      adjacency[i]?.push(j);
      adjacency[j]?.push(i);
    }
    for (const list of adjacency) {
      list.sort((x, y) => x - y);
      // Drop duplicates in place, keeping the order.
      let kept = 0;
      for (let k = 0; k < list.length; k++) if (k === 0 || list[k] !== list[k - 1]) list[kept++] = list[k] ?? 0;
      list.length = kept;
    }
    return new UnitGraph(sorted, adjacency);
  }

  get unitCount(): number {
    return this.#symbols.length;
  }

  get pairCount(): number {
    return this.#targets.length / 2;
  }

  /** Every registered symbol, in tie-break order. */
  units(): readonly string[] {
    return this.#symbols;
  }

  has(unit: string): boolean {
    return this.#index.has(unit);
  }

  /** Directly paired units of `unit`, in tie-break order (empty when unknown). */
  neighbours(unit: string): readonly string[] {
    const i = this.#index.get(unit);
    if (i === undefined) return [];
    const out: string[] = [];
    for (let k = this.#offsets[i] ?? 0; k < (this.#offsets[i + 1] ?? 0); k++) out.push(this.#symbols[this.#targets[k] ?? 0] ?? '');
    return out;
  }

  /**
   * The path with the fewest hops from `from` to `to`, ties broken as the class comment says.
   * `from === to` is 'same-unit' (checked first); a unit not in the graph is 'unknown-unit'.
   */
  findPath(from: string, to: string): PathResult {
    if (from === to) return SAME_UNIT;
    const source = this.#index.get(from);
    const target = this.#index.get(to);
    if (source === undefined || target === undefined) return UNKNOWN_UNIT;

    const stamp = this.#stamp;
    const parent = this.#parent;
    const queue = this.#queue;
    const offsets = this.#offsets;
    const targets = this.#targets;
    if (++this.#epoch === 0xffffffff) {
      stamp.fill(0);
      this.#epoch = 1;
    }
    const epoch = this.#epoch;
    stamp[source] = epoch;
    queue[0] = source;
    let head = 0;
    let tail = 1;
    while (head < tail) {
      const u = queue[head++] ?? 0;
      const end = offsets[u + 1] ?? 0;
      for (let k = offsets[u] ?? 0; k < end; k++) {
        const v = targets[k] ?? 0;
        if (stamp[v] === epoch) continue;
        stamp[v] = epoch;
        parent[v] = u;
        // The first discovery of a node fixes its parent for good, so stop at the target.
        if (v === target) return this.#path(source, target);
        queue[tail++] = v;
      }
    }
    return NO_PATH;
  }

  #path(source: number, target: number): PathResult {
    const nodes: number[] = [target];
    for (let v = target; v !== source; ) nodes.push((v = this.#parent[v] ?? source));
    nodes.reverse();
    const hops: Hop[] = [];
    for (let k = 1; k < nodes.length; k++) {
      hops.push(Object.freeze({ from: this.#symbols[nodes[k - 1] ?? 0] ?? '', to: this.#symbols[nodes[k] ?? 0] ?? '' }));
    }
    return Object.freeze({ ok: true, hops: Object.freeze(hops) });
  }
}

/** Results kept before the cache is dropped whole: bounds memory under arbitrary queries. */
export const PATH_CACHE_LIMIT = 1 << 18;

/**
 * Shortest paths over a changing source of pairs. Every call compares `source.version` with
 * the version the graph was built from (one property read); on a change the graph is rebuilt
 * and the cache dropped, lazily, at the next question. Answers are cached per (from, to) in
 * nested maps, so a repeated question costs two Map lookups and allocates nothing.
 */
export class PathFinder {
  readonly #source: PairSource;
  #version = Number.NaN; // NaN equals nothing, so the first call builds
  #graph: UnitGraph = UnitGraph.fromPairs([]);
  #cache = new Map<string, Map<string, PathResult>>();
  #cached = 0;

  constructor(source: PairSource) {
    this.#source = source;
  }

  findPath(from: string, to: string): PathResult {
    if (this.#source.version !== this.#version) this.#rebuild();
    let row = this.#cache.get(from);
    const hit = row?.get(to);
    if (hit) return hit;
    const result = this.#graph.findPath(from, to);
    if (this.#cached >= PATH_CACHE_LIMIT) {
      this.#cache = new Map();
      this.#cached = 0;
      row = undefined;
    }
    if (!row) this.#cache.set(from, (row = new Map<string, PathResult>()));
    row.set(to, result);
    this.#cached++;
    return result;
  }

  /** The graph for the current version of the source. */
  get graph(): UnitGraph {
    if (this.#source.version !== this.#version) this.#rebuild();
    return this.#graph;
  }

  #rebuild(): void {
    // Read the version first: if pairs change while we read them, the next call rebuilds again.
    const version = this.#source.version;
    this.#graph = UnitGraph.fromPairs(this.#source.pairs());
    this.#cache = new Map();
    this.#cached = 0;
    this.#version = version;
  }
}
