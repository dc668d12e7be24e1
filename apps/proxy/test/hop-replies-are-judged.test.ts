import { describe, expect, it } from 'vitest';
import { judgeHopReply } from '../src/hop-reply';

describe('a converter answer', () => {
  it('is an amount when it is a number', () => {
    expect(judgeHopReply('15')).toEqual({ kind: 'amount', amount: 15 });
    expect(judgeHopReply(' 1.25e3 ')).toEqual({ kind: 'amount', amount: 1250 });
  });

  it('is the converter refusing the request when it is a FAILURE line', () => {
    expect(judgeHopReply('FAILURE bad amount. "x" (BAD_AMOUNT)')).toMatchObject({ kind: 'failed', failure: { code: 'BAD_AMOUNT' } });
    // Seed-style servers give no code.
    expect(judgeHopReply('Failure cannot convert')).toMatchObject({ kind: 'failed', failure: { code: 'UNSPECIFIED' } });
  });

  it('means a stale registration when the converter serves another pair', () => {
    expect(judgeHopReply('FAILURE wrong pair. This server converts kg <-> g only. (WRONG_PAIR)').kind).toBe('dead');
  });

  it('means a dead endpoint when it is garbage', () => {
    expect(judgeHopReply('HELLO converter ft in').kind).toBe('dead');
    expect(judgeHopReply('12 apples').kind).toBe('dead');
  });

  it('means try elsewhere when the converter is at its limits', () => {
    expect(judgeHopReply('FAILURE too many connections. (TOO_MANY_CONNECTIONS)').kind).toBe('busy');
    expect(judgeHopReply('FAILURE idle timeout. (IDLE_TIMEOUT)').kind).toBe('busy');
  });
});
