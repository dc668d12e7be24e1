import { describe, expect, it } from 'vitest';
import { parsePairs } from '../src/up-command';
import { describeStartFailure, lastLines, startLimit } from '../src/start-budget';
import { COURSE_PAIRS } from '../src/system';

describe('the time a process may take to start', () => {
  it('is the base limit on an idle machine, even with as many starting as there are cores', () => {
    expect(startLimit(15_000, { cpus: 2, load1: 0 }, 2)).toEqual({ ms: 15_000, stretch: 1 });
    expect(startLimit(15_000, { cpus: 8, load1: 0.5 }, 4)).toEqual({ ms: 15_000, stretch: 1 });
  });

  it('grows with the runnable processes per core: two CPU burners and two starting on two cores double it', () => {
    expect(startLimit(15_000, { cpus: 2, load1: 2 }, 2)).toEqual({ ms: 30_000, stretch: 2 });
    expect(startLimit(10_000, { cpus: 2, load1: 13 }, 2).ms).toBe(75_000);
  });

  it('never shrinks below the base, whatever the sample says', () => {
    expect(startLimit(15_000, { cpus: 0, load1: -1 }, 0).ms).toBe(15_000);
  });
});

describe('a process that does not start', () => {
  it('is named with its last log lines and what to try, when it printed no banner in time', () => {
    const log = { path: 'data/logs/converter-ft-in-1.log', text: Array.from({ length: 12 }, (_, i) => `line ${i + 1}`).join('\n') };
    const text = describeStartFailure(
      'converter ft:in #1',
      { kind: 'no-banner', waitedMs: 45_200, baseMs: 15_000, limit: { ms: 45_000, stretch: 3 }, machine: { cpus: 2, load1: 4 } },
      log,
    );
    expect(text).toMatchInlineSnapshot(`
      "converter ft:in #1 printed no banner within 45.2 s (--start-timeout 15000 ms, stretched 3.0x for a load of 4.0 on 2 cores).
        the last lines of data/logs/converter-ft-in-1.log:
          line 5
          line 6
          line 7
          line 8
          line 9
          line 10
          line 11
          line 12
        Try: give processes longer (--start-timeout 60000), start fewer (--replicas 1), or wait until the machine is less busy."
    `);
  });

  it('says so when it printed nothing at all, and how it ended when it exited', () => {
    const text = describeStartFailure('discovery', { kind: 'exited', how: 3 }, { path: 'data/logs/discovery.log', text: '\n\n' });
    expect(text.split('\n').slice(0, 2)).toEqual(['discovery exited (3) before listening.', '  (its log is empty: it printed nothing)']);
  });

  it('keeps the last non-empty lines, cut to a readable width', () => {
    expect(lastLines('a\n\nb\n   \nc\n', 2)).toEqual(['b', 'c']);
    expect(lastLines('x'.repeat(500))[0]).toHaveLength(200);
  });
});

describe('--pairs', () => {
  it("picks course pairs in either order, once each, in the order given", () => {
    expect(parsePairs('in:ft, cm:in,ft:in')).toEqual([['ft', 'in'], ['in', 'cm']]);
    expect(parsePairs(COURSE_PAIRS.map(([a, b]) => `${a}:${b}`).join(','))).toEqual(COURSE_PAIRS);
  });

  it('rejects what is not a course pair, naming the ones there are', () => {
    expect(parsePairs('ft:cm')).toMatch(/^must name course pairs only; "ft:cm" is not one of ft:in,in:cm,/);
    expect(parsePairs('ft:in:cm')).toMatch(/^must name course pairs only; "ft:in:cm"/);
    expect(parsePairs(' , ')).toMatch(/^must name at least one/);
  });
});
