import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  formatConversionReply,
  formatConversionRequest,
  formatGreeting,
  formatTracedHop,
  parseConversionCommand,
  parseTracedHop,
  parseConversionReply,
  parseConversionRequest,
  parseGreeting,
  splitTag,
} from '../src/index';
import { amount, failureValue, unit } from './arbitraries';

describe('conversion protocol', () => {
  it('greets naming the two units, and reads its own greetings back', () => {
    const line = formatGreeting({ role: 'converter', units: ['ft', 'in'] });
    expect(line).toBe('HELLO converter ft in - send "<from> <to> <amount>"\n');
    expect(parseGreeting(line)).toEqual({ role: 'converter', units: ['ft', 'in'] });
    expect(parseGreeting(formatGreeting({ role: 'proxy' }))).toEqual({ role: 'proxy' });
    expect(parseGreeting('Welcome to the feet <-> inches server')).toBeUndefined();
  });

  it('reads the course\'s requests', () => {
    expect(parseConversionRequest('ft in 1.25')).toEqual({ ok: true, value: { from: 'ft', to: 'in', amount: 1.25 } });
    expect(parseConversionRequest('in ft 30')).toEqual({ ok: true, value: { from: 'in', to: 'ft', amount: 30 } });
    expect(parseConversionRequest('$ cm 56.34')).toEqual({ ok: true, value: { from: '$', to: 'cm', amount: 56.34 } });
  });

  it('refuses malformed requests with the reason', () => {
    const codeOf = (line: string) => {
      const r = parseConversionRequest(line);
      return r.ok ? 'ok' : r.failure.code;
    };
    expect(codeOf('ft in')).toBe('BAD_ARITY');
    expect(codeOf('ft in 1 2')).toBe('BAD_ARITY');
    expect(codeOf('ft in NaN')).toBe('BAD_AMOUNT');
    expect(codeOf('ft in 0x10')).toBe('BAD_AMOUNT');
    expect(codeOf('ft in 1,5')).toBe('BAD_AMOUNT');
    expect(codeOf('ft in 1e400')).toBe('BAD_AMOUNT');
    expect(codeOf('f\u0000t in 1')).toBe('BAD_UNIT');
    expect(parseConversionRequest('ft in')).toEqual({
      ok: false,
      failure: {
        code: 'BAD_ARITY',
        message: 'wrong number of arguments. a request is "<from> <to> <amount>", e.g. "ft in 1.25"; got 2 tokens.',
      },
    });
  });

  it('round-trips requests and replies', () => {
    fc.assert(
      fc.property(unit, unit, amount, (from, to, x) => {
        const line = formatConversionRequest({ from, to, amount: x });
        expect(parseConversionRequest(line.trimEnd())).toEqual({ ok: true, value: { from, to, amount: x } });
        const reply = formatConversionReply({ kind: 'amount', amount: x });
        expect(parseConversionReply(reply.trimEnd())).toEqual({ ok: true, value: { kind: 'amount', amount: x } });
      }),
      { numRuns: 500 },
    );
    fc.assert(
      fc.property(failureValue, (f) => {
        const reply = formatConversionReply({ kind: 'failure', failure: f });
        expect(parseConversionReply(reply.trimEnd())).toEqual({ ok: true, value: { kind: 'failure', failure: f } });
      }),
    );
  });

  it('answers with the number a person expects', () => {
    expect(formatConversionReply({ kind: 'amount', amount: 0.30479999999999996 })).toBe('0.3048\n');
    expect(formatConversionReply({ kind: 'amount', amount: 15 })).toBe('15\n');
  });

  it('tells a malformed answer apart from a number and a failure', () => {
    expect(parseConversionReply('fifteen').ok).toBe(false);
    expect(parseConversionReply('15 in').ok).toBe(false);
  });

  it('reads PERSIST, in any case, as the opt-in to persistent mode, and anything else as a request', () => {
    expect(parseConversionCommand('PERSIST')).toEqual({ ok: true, value: { kind: 'persist', tagged: false } });
    expect(parseConversionCommand(' persist ')).toEqual({ ok: true, value: { kind: 'persist', tagged: false } });
    expect(parseConversionCommand('PERSIST TAGGED')).toEqual({ ok: true, value: { kind: 'persist', tagged: true } });
    expect(parseConversionCommand('persist tagged')).toEqual({ ok: true, value: { kind: 'persist', tagged: true } });
    expect(parseConversionCommand('ft in 2')).toEqual({
      ok: true,
      value: { kind: 'convert', request: { from: 'ft', to: 'in', amount: 2 } },
    });
    const bad = parseConversionCommand('PERSIST now');
    expect(bad.ok).toBe(false);
  });

  it('splits the tag off a tagged line, and leaves any other line whole', () => {
    expect(splitTag('#17 ft in 1')).toEqual({ tag: '#17', rest: 'ft in 1' });
    expect(splitTag('#a9 FAILURE bad amount. (BAD_AMOUNT)')).toEqual({ tag: '#a9', rest: 'FAILURE bad amount. (BAD_AMOUNT)' });
    expect(splitTag('#5')).toEqual({ tag: '#5', rest: '' });
    expect(splitTag('ft in 1')).toEqual({ tag: undefined, rest: 'ft in 1' });
    // Not a tag: nothing after the #, a character outside letters and digits, or over 16 of them.
    for (const line of ['# ft in 1', '#1-2 ft in 1', `#${'1'.repeat(17)} ft in 1`]) expect(splitTag(line)).toEqual({ tag: undefined, rest: line });
  });

  it('reads TRACE <from> <to> <amount>, and round-trips the HOP lines of a traced answer', () => {
    expect(parseConversionCommand('trace $ cm 56.34')).toEqual({
      ok: true,
      value: { kind: 'trace', request: { from: '$', to: 'cm', amount: 56.34 } },
    });
    const bad = parseConversionCommand('TRACE $ cm');
    expect(bad.ok ? 'ok' : bad.failure.code).toBe('BAD_ARITY');
    const hop = { from: '$', to: 'oz', endpoint: { host: '127.0.0.1', port: 6013 }, input: 56.34, output: 1502.4 };
    expect(formatTracedHop(hop)).toBe('HOP $ oz 127.0.0.1 6013 56.34 1502.4\n');
    expect(parseTracedHop(formatTracedHop(hop).trimEnd())).toEqual(hop);
    expect(parseTracedHop('6818.83247569236')).toBeUndefined();
    expect(parseTracedHop('HOP $ oz 127.0.0.1 0 1 2')).toBeUndefined();
  });
});
