/** A seeded source of numbers in [0, 1): mulberry32, small and good enough for test schedules. */
export type Random = () => number;

export function seededRandom(seed: number): Random {
  let state = mix(seed);
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** An independent stream for one part of a run (a client, the fault plan), so parts do not share draws. */
export function substream(seed: number, stream: number): Random {
  return seededRandom(mix(seed) ^ mix(stream * 0x9e3779b1 + 1));
}

/** A whole number in [min, max]. */
export function between(random: Random, min: number, max: number): number {
  return min + Math.floor(random() * (max - min + 1));
}

export function pick<T>(random: Random, items: readonly T[]): T {
  const item = items[Math.floor(random() * items.length)];
  if (item === undefined) throw new Error('pick from an empty list');
  return item;
}

/** Exponentially distributed gap with the given mean: faults arrive as a Poisson process. */
export function gap(random: Random, meanMs: number): number {
  return Math.round(-Math.log(1 - random()) * meanMs);
}

function mix(value: number): number {
  // murmur3's finaliser: nearby seeds give unrelated streams.
  let h = (Math.trunc(value) ^ 0x5bd1e995) >>> 0;
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}
