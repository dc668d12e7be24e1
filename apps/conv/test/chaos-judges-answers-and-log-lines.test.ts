import { formatAmount } from '@conv/protocol';
import { describe, expect, it } from 'vitest';
import { CHAOS_UNITS } from '../src/chaos/harness';
import { drawQuestion, judgeAnswer } from '../src/chaos/load';
import { countProxyEvent, logEventName } from '../src/chaos/log-events';
import { percentile } from '../src/chaos/report';
import { seededRandom } from '../src/chaos/random';

describe('the chaos clients judge each answer against the exact value', () => {
  const question = { from: 'lbs', to: 'm', amount: 45.6 };
  // Worked out by hand, not by the catalog the judge uses: 45.6 * 453.59237 / 118 * 7.4375 * 0.0254.
  const exact = 33.113819051285596;

  it('accepts the 15-digit answer the proxy chains, and one a few ulps away', () => {
    expect(judgeAnswer(question, formatAmount(exact))).toEqual({ ok: true });
    expect(judgeAnswer(question, String(exact * (1 + 1e-14)))).toEqual({ ok: true });
  });

  it('calls a number off by more than 1e-12 relative a wrong answer, and a FAILURE line a failed request', () => {
    expect(judgeAnswer(question, String(exact * (1 + 1e-9)))).toMatchObject({ ok: false, kind: 'wrong' });
    expect(judgeAnswer(question, 'hello')).toMatchObject({ ok: false, kind: 'wrong' });
    expect(judgeAnswer(question, 'FAILURE unavailable. No live server converts lbs <-> b. (UNAVAILABLE)')).toMatchObject({ ok: false, kind: 'failed' });
    expect(judgeAnswer(question, undefined)).toMatchObject({ ok: false, kind: 'failed' });
  });

  it('asks over the route in both directions, 1 to 4 hops, never a unit to itself or a zero amount', () => {
    const random = seededRandom(1);
    const questions = Array.from({ length: 2000 }, () => drawQuestion(random, CHAOS_UNITS));
    const hops = new Set(questions.map((q) => Math.abs(CHAOS_UNITS.indexOf(q.from as never) - CHAOS_UNITS.indexOf(q.to as never))));
    expect([...hops].sort()).toEqual([1, 2, 3, 4]);
    expect(questions.some((q) => CHAOS_UNITS.indexOf(q.from as never) > CHAOS_UNITS.indexOf(q.to as never))).toBe(true);
    expect(questions.every((q) => q.from !== q.to && q.amount !== 0 && Number.isFinite(q.amount))).toBe(true);
  });
});

describe('log lines', () => {
  it('names the event in the plain format and in pino JSON', () => {
    expect(logEventName('2026-01-01T00:00:00.000Z warn hop.failover from=lbs to=b')).toBe('hop.failover');
    expect(logEventName('{"level":40,"time":1,"msg":"hop.failover","from":"lbs"}')).toBe('hop.failover');
    expect(logEventName('{"level":"warn","event":"hop.retry","msg":"retrying"}')).toBe('hop.retry');
    expect(logEventName('{not json')).toBeUndefined();
  });

  it('counts failovers and retries, nothing else', () => {
    const counts = { failovers: 0, retries: 0 };
    for (const line of [
      '2026-01-01T00:00:00.000Z warn hop.failover from=lbs',
      '{"level":40,"msg":"hop.failover"}',
      '2026-01-01T00:00:00.000Z info hop.retry from=lbs',
      '2026-01-01T00:00:00.000Z info endpoint.reported reason="hop.failover"',
      'proxy listening on 127.0.0.1:5556',
    ]) {
      countProxyEvent(counts, line);
    }
    expect(counts).toEqual({ failovers: 2, retries: 1 });
  });

  it('reads latency percentiles by nearest rank', () => {
    const values = Array.from({ length: 100 }, (_, i) => i + 1);
    expect(percentile(values, 50)).toBe(50);
    expect(percentile(values, 99)).toBe(99);
    expect(percentile([], 99)).toBe(0);
  });
});
