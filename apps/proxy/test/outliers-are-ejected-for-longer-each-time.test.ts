import { describe, expect, it } from 'vitest';
import { Outliers, ejectionMs } from '../src/outliers';

// The decision alone, with the time passed in: the over-the-socket behaviour is in
// proxy-ejects-outliers-for-longer-each-time.test.ts.
describe('outlier ejection (pure)', () => {
  const a = { host: '127.0.0.1', port: 4001 };
  const b = { host: '127.0.0.1', port: 4002 };

  it('doubles the ejection with each ejection in a row, up to the cap', () => {
    const policy = { baseMs: 100, maxMs: 1000 };
    expect([1, 2, 3, 4, 5, 6, 40].map((k) => ejectionMs(policy, k))).toEqual([100, 200, 400, 800, 1000, 1000, 1000]);
    expect(ejectionMs({ baseMs: 500, maxMs: 100 }, 3)).toBe(500);
  });

  it('ejects once per failure window, grows while it keeps failing, starts over after an answer', () => {
    const outliers = new Outliers({ baseMs: 100, maxMs: 1000 });
    expect(outliers.eject(a, 0)).toEqual({ fresh: true, consecutive: 1, ejectionMs: 100 });
    // Requests in flight when it failed: the same ejection, not a longer one.
    expect(outliers.eject(a, 50)).toEqual({ fresh: false, consecutive: 1, ejectionMs: 100 });
    expect(outliers.isEjected(a, 99)).toBe(true);
    expect(outliers.isEjected(a, 100)).toBe(false);
    expect(outliers.isEjected(b, 50)).toBe(false);
    expect(outliers.eject(a, 100)).toEqual({ fresh: true, consecutive: 2, ejectionMs: 200 });
    expect(outliers.eject(a, 300)).toEqual({ fresh: true, consecutive: 3, ejectionMs: 400 });
    expect(outliers.records(400)).toEqual([{ endpoint: '127.0.0.1:4001', consecutive: 3, ejectionMs: 400, ejected: true, remainingMs: 300 }]);
    expect(outliers.ejections).toBe(3);
    expect(outliers.succeeded(a)).toBe(true);
    expect(outliers.records(800)).toEqual([]);
    expect(outliers.eject(a, 800)).toEqual({ fresh: true, consecutive: 1, ejectionMs: 100 });
  });

  it('forgets a record quiet for longer than the cap, so the table stays bounded', () => {
    const outliers = new Outliers({ baseMs: 100, maxMs: 1000 });
    outliers.eject(a, 0);
    outliers.eject(b, 2000);
    expect(outliers.records(2000).map((r) => r.endpoint)).toEqual(['127.0.0.1:4002']);
    expect(outliers.eject(a, 2000).consecutive).toBe(1);
  });
});
