const UNIT_MS: Readonly<Record<string, number>> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** The longest duration any flag takes: a day. Longer is a typo, and timers cap at 2^31 - 1 ms. */
export const MAX_DURATION_MS = 24 * 60 * 60 * 1000;

/**
 * Every duration a flag takes: `1500` (milliseconds), `500ms`, `2s`, `1.5s`, `1m`, `1h`.
 * Undefined for anything else (`-1s`, `2 days`, ``) or for more than a day.
 */
export function parseDuration(text: string): number | undefined {
  const match = /^(\d+(?:\.\d+)?)(ms|s|m|h)?$/.exec(text.trim());
  if (!match) return undefined;
  const ms = Math.round(Number(match[1]) * (UNIT_MS[match[2] ?? 'ms'] ?? 1));
  return Number.isSafeInteger(ms) && ms <= MAX_DURATION_MS ? ms : undefined;
}

/** `1500` -> `1.5s`, `60000` -> `1m`, `250` -> `250ms`: the shortest exact way to write it. */
export function formatDuration(ms: number): string {
  for (const [unit, size] of [['h', 3_600_000], ['m', 60_000], ['s', 1000]] as const) {
    if (ms >= size && ms % size === 0) return `${ms / size}${unit}`;
  }
  if (ms >= 1000 && ms % 100 === 0) return `${ms / 1000}s`;
  return `${ms}ms`;
}
