import { describe, expect, it } from 'vitest';
import { TokenBucket } from '../src/health-monitor';

describe('the probe budget', () => {
  it('allows `rate` routine probes a second and no more', () => {
    let now = 0;
    const bucket = new TokenBucket(500, 25, () => now);
    let taken = 0;
    // Ten simulated seconds, asking every millisecond.
    for (now = 0; now < 10_000; now++) if (bucket.take()) taken++;
    expect(taken).toBeGreaterThanOrEqual(4990);
    expect(taken).toBeLessThanOrEqual(5000);
  });

  it('never saves up more than its capacity, so a quiet spell is not followed by a burst', () => {
    let now = 0;
    const bucket = new TokenBucket(500, 25, () => now);
    now = 60_000;
    let burst = 0;
    while (bucket.take()) burst++;
    expect(burst).toBe(25);
  });
});
