import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  DiscoveryRequestSchema,
  type FailureCode,
  formatDiscoveryRequest,
  parseDiscoveryRequest,
} from '../src/index';
import { discoveryRequest } from './arbitraries';

const failureCode = (line: string): FailureCode | undefined => {
  const result = parseDiscoveryRequest(line);
  return result.ok ? undefined : result.failure.code;
};

describe('discovery requests', () => {
  it('parses every verb', () => {
    expect(parseDiscoveryRequest('ADD ft in 127.0.0.1 4000')).toEqual({
      ok: true,
      value: { verb: 'ADD', units: ['ft', 'in'], endpoint: { host: '127.0.0.1', port: 4000 } },
    });
    expect(parseDiscoveryRequest('REMOVE ::1 4000')).toEqual({
      ok: true,
      value: { verb: 'REMOVE', endpoint: { host: '::1', port: 4000 } },
    });
    expect(parseDiscoveryRequest('LOOKUP $ y')).toEqual({ ok: true, value: { verb: 'LOOKUP', units: ['$', 'y'] } });
    expect(parseDiscoveryRequest('LOOKUP_MULTI $ cm')).toEqual({
      ok: true,
      value: { verb: 'LOOKUP_MULTI', from: '$', to: 'cm' },
    });
    expect(parseDiscoveryRequest('PING')).toEqual({ ok: true, value: { verb: 'PING' } });
    expect(parseDiscoveryRequest('LIST')).toEqual({ ok: true, value: { verb: 'LIST' } });
    expect(parseDiscoveryRequest('HELP')).toEqual({ ok: true, value: { verb: 'HELP' } });
  });

  it('reads verbs in any case, PATH as LOOKUP_MULTI, and tolerates runs of spaces and tabs', () => {
    expect(parseDiscoveryRequest('add\tlbs  b 127.0.0.1\t 1234 ')).toEqual(parseDiscoveryRequest('ADD lbs b 127.0.0.1 1234'));
    expect(parseDiscoveryRequest('Lookup lbs b')).toEqual(parseDiscoveryRequest('LOOKUP lbs b'));
    expect(parseDiscoveryRequest('path ban lbs')).toEqual(parseDiscoveryRequest('LOOKUP_MULTI ban lbs'));
  });

  it('reads lease=<duration> on ADD as the flags read durations, before or after token=', () => {
    const leased = { verb: 'ADD', units: ['ft', 'in'], endpoint: { host: '127.0.0.1', port: 4000 }, leaseMs: 5000 };
    expect(parseDiscoveryRequest('ADD ft in 127.0.0.1 4000 lease=5s')).toEqual({ ok: true, value: leased });
    expect(parseDiscoveryRequest('ADD ft in 127.0.0.1 4000 LEASE=5000')).toEqual({ ok: true, value: leased });
    expect(parseDiscoveryRequest('ADD ft in 127.0.0.1 4000 lease=1.5s token=s3')).toEqual({ ok: true, value: { ...leased, leaseMs: 1500, token: 's3' } });
    expect(parseDiscoveryRequest('ADD ft in 127.0.0.1 4000 token=s3 lease=250ms')).toEqual({ ok: true, value: { ...leased, leaseMs: 250, token: 's3' } });
    expect(formatDiscoveryRequest({ verb: 'ADD', units: ['ft', 'in'], endpoint: { host: '127.0.0.1', port: 4000 }, leaseMs: 5000, token: 's3' })).toBe('ADD ft in 127.0.0.1 4000 lease=5s token=s3\n');
    for (const bad of ['lease=', 'lease=5days', 'lease=-1s', 'lease=forever', 'lease=50ms', 'lease=2h']) {
      expect(failureCode(`ADD ft in 127.0.0.1 4000 ${bad}`)).toBe('BAD_LEASE');
    }
    // Only ADD takes a lease, and only once.
    expect(failureCode('ADD ft in 127.0.0.1 4000 lease=5s lease=5s')).toBe('BAD_ARITY');
    expect(failureCode('REMOVE 127.0.0.1 4000 lease=5s')).toBe('BAD_ARITY');
  });

  it('keeps unit symbols case-sensitive and hosts canonical', () => {
    expect(parseDiscoveryRequest('ADD MB mB LOCALHOST 1')).toEqual({
      ok: true,
      value: { verb: 'ADD', units: ['MB', 'mB'], endpoint: { host: 'localhost', port: 1 } },
    });
  });

  it('round-trips every request: parse(format(x)) equals x, and x satisfies its schema', () => {
    fc.assert(
      fc.property(discoveryRequest, (request) => {
        expect(DiscoveryRequestSchema.parse(request)).toEqual(request);
        const line = formatDiscoveryRequest(request);
        expect(line.endsWith('\n')).toBe(true);
        expect(parseDiscoveryRequest(line.slice(0, -1))).toEqual({ ok: true, value: request });
      }),
      { numRuns: 500 },
    );
  });

  it('answers an unknown verb with the list of verbs', () => {
    expect(parseDiscoveryRequest('FETCH ft in')).toEqual({
      ok: false,
      failure: {
        code: 'UNKNOWN_VERB',
        message: 'unknown command. "FETCH" is not a command; expected ADD, REMOVE, REPORT, LOOKUP, LOOKUP_MULTI (or PATH), PING, LIST, HELP, SESSION, FEATURES or WATCH.',
      },
    });
  });

  it('answers wrong arity with the verb\'s usage, for every verb', () => {
    expect(parseDiscoveryRequest('ADD ft in 127.0.0.1')).toEqual({
      ok: false,
      failure: {
        code: 'BAD_ARITY',
        message: 'wrong number of arguments. ADD takes 4 arguments (ADD <unit1> <unit2> <host> <port>), got 3.',
      },
    });
    for (const line of ['ADD a b c d e', 'REMOVE h', 'REMOVE h 1 x', 'LOOKUP ft', 'LOOKUP a b c', 'LOOKUP_MULTI a', 'PATH a b c', 'PING x', 'LIST all', 'HELP me']) {
      expect(failureCode(line), line).toBe('BAD_ARITY');
    }
  });

  it('names the field that is wrong', () => {
    expect(failureCode('ADD ft in 127.0.0.1 0')).toBe('BAD_PORT');
    expect(failureCode('ADD ft in 127.0.0.1 65536')).toBe('BAD_PORT');
    expect(failureCode('ADD ft in 999.0.0.1 4000')).toBe('BAD_HOST');
    expect(failureCode('ADD f\u0001t in 127.0.0.1 4000')).toBe('BAD_UNIT');
    expect(failureCode(`LOOKUP ${'x'.repeat(33)} in`)).toBe('BAD_UNIT');
    expect(failureCode(`REMOVE ${'h'.repeat(300)} 1`)).toBe('BAD_HOST');
  });

  it('quotes hostile input escaped and truncated, so the reply stays one short line', () => {
    const result = parseDiscoveryRequest(`\u0000\u001b[2J${'A'.repeat(500)}`);
    expect(result.ok).toBe(false);
    if (!result.ok) {
      expect([...result.failure.message].some((c) => c.charCodeAt(0) < 0x20)).toBe(false);
      expect(result.failure.message.length).toBeLessThan(200);
    }
  });

  it('parses the seed\'s suggested command sequence as documented', () => {
    // From the seed write-up; their 192.168.x addresses are only parsed here, never contacted.
    const seed = ['ADD lbs b 192.168.0.1 1234', 'ADD ban b 192.168.0.2 1233', 'LOOKUP lbs b', 'LOOKUP_MULTI ban lbs', 'REMOVE lbs b', 'LOOKUP lbs b'];
    const parsed = seed.map(parseDiscoveryRequest);
    expect(parsed.map((r) => (r.ok ? r.value.verb : r.failure.code))).toEqual([
      'ADD',
      'ADD',
      'LOOKUP',
      'LOOKUP_MULTI',
      'REMOVE_PAIR', // seed 2's form: "b" is no port, so lbs and b are two units
      'LOOKUP',
    ]);
    expect(parsed[3]).toEqual({ ok: true, value: { verb: 'LOOKUP_MULTI', from: 'ban', to: 'lbs' } });
    expect(parsed[4]).toEqual({ ok: true, value: { verb: 'REMOVE_PAIR', units: ['lbs', 'b'] } });
  });

  it('tells REMOVE <host> <port> from REMOVE <unit1> <unit2> by the second argument', () => {
    expect(parseDiscoveryRequest('REMOVE 127.0.0.1 4000')).toEqual({ ok: true, value: { verb: 'REMOVE', endpoint: { host: '127.0.0.1', port: 4000 } } });
    // A unit symbol may look like a host name: a port after it still makes it host and port.
    expect(parseDiscoveryRequest('REMOVE lbs 4000')).toEqual({ ok: true, value: { verb: 'REMOVE', endpoint: { host: 'lbs', port: 4000 } } });
    expect(parseDiscoveryRequest('remove $ y token=s3cr3t')).toEqual({ ok: true, value: { verb: 'REMOVE_PAIR', units: ['$', 'y'], token: 's3cr3t' } });
    expect(parseDiscoveryRequest('REMOVE ft 08')).toEqual({ ok: true, value: { verb: 'REMOVE_PAIR', units: ['ft', '08'] } });
    expect(formatDiscoveryRequest({ verb: 'REMOVE_PAIR', units: ['lbs', 'b'] })).toBe('REMOVE lbs b\n');
  });

  it('reads a trailing token=<secret> on ADD and REMOVE, and writes it back', () => {
    expect(parseDiscoveryRequest('ADD ft in 127.0.0.1 4000 token=s3cr3t')).toEqual({
      ok: true,
      value: { verb: 'ADD', units: ['ft', 'in'], endpoint: { host: '127.0.0.1', port: 4000 }, token: 's3cr3t' },
    });
    expect(parseDiscoveryRequest('remove 127.0.0.1 4000 token=a=b')).toEqual({
      ok: true,
      value: { verb: 'REMOVE', endpoint: { host: '127.0.0.1', port: 4000 }, token: 'a=b' },
    });
    expect(formatDiscoveryRequest({ verb: 'REMOVE', endpoint: { host: '::1', port: 1 }, token: 'x' })).toBe('REMOVE ::1 1 token=x\n');
  });

  it('refuses an empty or over-long token without quoting it, and a fifth bare word as wrong arity', () => {
    expect(parseDiscoveryRequest('ADD ft in 127.0.0.1 4000 token=')).toEqual({
      ok: false,
      failure: {
        code: 'BAD_TOKEN',
        message: 'bad token. A token is 1 to 256 printable ASCII characters without spaces, written token=<secret>.',
      },
    });
    const long = parseDiscoveryRequest(`REMOVE h 1 token=${'k'.repeat(257)}`);
    expect(long.ok ? 'ok' : long.failure.code).toBe('BAD_TOKEN');
    expect(long.ok ? '' : long.failure.message).not.toContain('kkk');
    expect(failureCode('ADD ft in 127.0.0.1 4000 s3cr3t')).toBe('BAD_ARITY');
    expect(failureCode('LOOKUP ft in token=x')).toBe('BAD_ARITY');
  });
});
