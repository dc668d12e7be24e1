import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  DISCOVERY_HELP,
  type DiscoveryReply,
  DiscoveryReplySchema,
  type DiscoveryVerb,
  createDiscoveryReplyReader,
  failure,
  formatDiscoveryReply,
  parseDiscoveryReply,
} from '../src/index';
import { discoveryReply } from './arbitraries';

const VERB_FOR: Record<Exclude<DiscoveryReply['kind'], 'failure'>, DiscoveryVerb> = {
  success: 'ADD',
  endpoint: 'LOOKUP',
  path: 'LOOKUP_MULTI',
  pong: 'PING',
  list: 'LIST',
  help: 'HELP',
  session: 'SESSION',
  features: 'FEATURES',
  synced: 'WATCH',
};

const linesOf = (text: string) => text.split('\n').slice(0, -1);

describe('discovery replies', () => {
  it('writes each reply kind as documented', () => {
    expect(formatDiscoveryReply({ kind: 'success' })).toBe('SUCCESS\n');
    expect(formatDiscoveryReply({ kind: 'pong' })).toBe('PONG\n');
    expect(formatDiscoveryReply({ kind: 'endpoint', endpoint: { host: '127.0.0.1', port: 4000 } })).toBe('127.0.0.1 4000\n');
    expect(
      formatDiscoveryReply({
        kind: 'path',
        hops: [
          { from: '$', to: 'oz', endpoint: { host: '127.0.0.1', port: 4001 } },
          { from: 'oz', to: 'lbs', endpoint: { host: '127.0.0.1', port: 4002 } },
        ],
      }),
    ).toBe('$ oz 127.0.0.1 4001 0\noz lbs 127.0.0.1 4002 1\n');
    expect(
      formatDiscoveryReply({
        kind: 'list',
        registrations: [{ units: ['ft', 'in'], endpoint: { host: '127.0.0.1', port: 4000 }, health: 'up' }],
      }),
    ).toBe('ft in 127.0.0.1 4000 up\nEND\n');
    expect(formatDiscoveryReply({ kind: 'list', registrations: [] })).toBe('END\n');
    expect(formatDiscoveryReply({ kind: 'failure', failure: failure('ENTRY_EXISTS', '127.0.0.1 4000 serves ft in.') })).toBe(
      'FAILURE entry exists. 127.0.0.1 4000 serves ft in. (ENTRY_EXISTS)\n',
    );
  });

  it('round-trips every reply through the reader, line by line', () => {
    fc.assert(
      fc.property(discoveryReply, fc.constantFrom<DiscoveryVerb>('ADD', 'LOOKUP', 'LOOKUP_MULTI', 'LIST', 'HELP', 'PING', 'REMOVE'), (reply, anyVerb) => {
        expect(DiscoveryReplySchema.parse(reply)).toEqual(reply);
        const verb = reply.kind === 'failure' ? anyVerb : VERB_FOR[reply.kind];
        expect(parseDiscoveryReply(verb, linesOf(formatDiscoveryReply(reply)))).toEqual({ ok: true, value: reply });
      }),
      { numRuns: 500 },
    );
  });

  it('writes and reads leases and lapses on LIST lines, and course LIST lines unchanged', () => {
    const reply: DiscoveryReply = {
      kind: 'list',
      registrations: [
        { units: ['ft', 'in'], endpoint: { host: '127.0.0.1', port: 4000 }, health: 'up' },
        { units: ['ft', 'in'], endpoint: { host: '127.0.0.1', port: 4001 }, health: 'up', leaseMs: 5000, lapsed: false },
        { units: ['ft', 'in'], endpoint: { host: '127.0.0.1', port: 4002 }, health: 'down', leaseMs: 1500, lapsed: true },
      ],
    };
    const text = formatDiscoveryReply(reply);
    expect(text).toBe('ft in 127.0.0.1 4000 up\nft in 127.0.0.1 4001 up lease=5s\nft in 127.0.0.1 4002 down lease=1.5s lapsed\nEND\n');
    expect(parseDiscoveryReply('LIST', linesOf(text))).toEqual({ ok: true, value: reply });
    for (const odd of ['up lapsed', 'up lease=5s gone', 'up lease=never']) {
      const read = parseDiscoveryReply('LIST', ['ft in 127.0.0.1 4000 up', `ft in 127.0.0.1 4001 ${odd}`, 'END']);
      expect(read).toMatchObject({ ok: true, value: { kind: 'failure', failure: { code: 'UNSPECIFIED' } } });
    }
  });

  it('keeps reading a multi-line reply until it is complete', () => {
    const reader = createDiscoveryReplyReader('LOOKUP_MULTI');
    expect(reader.push('ban b 127.0.0.2 1233 0')).toEqual({ done: false });
    expect(reader.push('b lbs 127.0.0.1 1234 1')).toEqual({
      done: true,
      reply: {
        kind: 'path',
        hops: [
          { from: 'ban', to: 'b', endpoint: { host: '127.0.0.2', port: 1233 } },
          { from: 'b', to: 'lbs', endpoint: { host: '127.0.0.1', port: 1234 } },
        ],
      },
    });
  });

  it('reads the HELP text, which mentions FAILURE without being one', () => {
    const text = formatDiscoveryReply({ kind: 'help', lines: [...DISCOVERY_HELP] });
    expect(parseDiscoveryReply('HELP', linesOf(text))).toEqual({ ok: true, value: { kind: 'help', lines: DISCOVERY_HELP } });
  });

  it('reads replies of seed servers: lower-case words and failures without a code', () => {
    expect(parseDiscoveryReply('ADD', ['Success'])).toEqual({ ok: true, value: { kind: 'success' } });
    expect(parseDiscoveryReply('ADD', ['Failure entry exists.'])).toEqual({
      ok: true,
      value: { kind: 'failure', failure: { code: 'UNSPECIFIED', message: 'entry exists.' } },
    });
  });

  it('skips a few lines of another shape before a reply (greetings), then fails quoting the next one', () => {
    expect(parseDiscoveryReply('LOOKUP', ['Welcome to the discovery server!', '127.0.0.1 4000'])).toEqual({
      ok: true,
      value: { kind: 'endpoint', endpoint: { host: '127.0.0.1', port: 4000 } },
    });
    expect(parseDiscoveryReply('LOOKUP', ['1', '2', '3', '4', '127.0.0.1'])).toEqual({
      ok: true,
      value: {
        kind: 'failure',
        failure: { code: 'UNSPECIFIED', message: 'failure. the reply line "127.0.0.1" is not of the form <host> <port>.' },
      },
    });
    // Once a multi-line reply has started, a line of another shape is a failure at once.
    for (const [verb, lines] of [
      ['LIST', ['ft in 127.0.0.1 4000 up', 'ft in 127.0.0.1 4001 sleepy']],
      ['LOOKUP_MULTI', ['ft in 127.0.0.1 4000 0', 'in cm 127.0.0.1 4001 2']],
    ] as const) {
      const result = parseDiscoveryReply(verb, lines);
      expect(result.ok && result.value.kind === 'failure' && result.value.failure.code).toBe('UNSPECIFIED');
    }
  });

  it('reads success as the course servers said it', () => {
    for (const line of ['SUCCESS', 'Success', 'success', 'SUC', 'OK', 'ok.', 'Success: added', 'DONE']) {
      expect(parseDiscoveryReply('ADD', [line]), line).toEqual({ ok: true, value: { kind: 'success' } });
    }
    for (const line of ['FAILURE EXISTS', 'failure exist', 'Failure entry exists.']) {
      const result = parseDiscoveryReply('ADD', [line]);
      expect(result.ok && result.value.kind, line).toBe('failure');
    }
    expect(parseDiscoveryReply('FEATURES', ['features session WATCH remove-pair'])).toEqual({
      ok: true,
      value: { kind: 'features', features: ['session', 'watch', 'remove-pair'] },
    });
  });

  it('fails when the lines end before the reply does', () => {
    const result = parseDiscoveryReply('LIST', ['ft in 127.0.0.1 4000 up']);
    expect(result).toEqual({ ok: false, failure: { code: 'UNSPECIFIED', message: 'failure. the reply to LIST ended early.' } });
  });
});
