import { describe, expect, it } from 'vitest';
import { classifyConverterReply } from '../src/index';

describe('one classifier for a converter reply (discovery probes and proxy hops read it alike)', () => {
  it('reads a number as an amount', () => {
    expect(classifyConverterReply('12')).toEqual({ kind: 'amount', amount: 12 });
  });

  it('reads a full server as busy, alive, never dead', () => {
    const busy = classifyConverterReply('FAILURE too many connections. This server takes 2 connections at most; try again later. (TOO_MANY_CONNECTIONS)');
    expect(busy).toMatchObject({ kind: 'busy', failure: { code: 'TOO_MANY_CONNECTIONS' } });
    expect(classifyConverterReply('FAILURE idle timeout. (IDLE_TIMEOUT)')).toMatchObject({ kind: 'busy' });
  });

  it('reads WRONG_PAIR and garbage as not serving, and any other failure as a refused request', () => {
    expect(classifyConverterReply('FAILURE wrong pair. This server converts kg <-> g only. (WRONG_PAIR)')).toMatchObject({ kind: 'not-serving' });
    expect(classifyConverterReply('hello there')).toMatchObject({ kind: 'not-serving' });
    expect(classifyConverterReply('FAILURE bad amount. "x" is not a number. (BAD_AMOUNT)')).toMatchObject({ kind: 'refused', failure: { code: 'BAD_AMOUNT' } });
  });
});
