import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  type WatchChange,
  WatchChangeSchema,
  createDiscoveryReplyReader,
  formatDiscoveryRequest,
  formatWatchChange,
  formatWatchEntry,
  isChangeLine,
  parseDiscoveryRequest,
  parseWatchLine,
} from '../src/index';
import { endpoint, epoch, health, units, watchSeq } from './arbitraries';

const change: fc.Arbitrary<WatchChange> = fc.record({
  epoch: epoch(),
  seq: watchSeq,
  kind: fc.constantFrom('added' as const, 'removed' as const, 'health' as const),
  units,
  endpoint,
  health,
});

describe('WATCH and its lines', () => {
  it('reads WATCH with or without a position, a name and an operator port, in any order', () => {
    expect(parseDiscoveryRequest('WATCH')).toEqual({ ok: true, value: { verb: 'WATCH' } });
    expect(parseDiscoveryRequest('watch 3f9a 17')).toEqual({ ok: true, value: { verb: 'WATCH', from: { epoch: '3f9a', seq: 17 } } });
    expect(parseDiscoveryRequest('WATCH http=9100 ab 0 as=proxy-1')).toEqual({
      ok: true,
      value: { verb: 'WATCH', from: { epoch: 'ab', seq: 0 }, name: 'proxy-1', httpPort: 9100 },
    });
    expect(formatDiscoveryRequest({ verb: 'WATCH', from: { epoch: 'ab', seq: 4 }, name: 'p', httpPort: 80 })).toBe('WATCH ab 4 as=p http=80\n');
  });

  it('refuses a half position, a bad change number and a bad port, each with one failure', () => {
    for (const line of ['WATCH ab', 'WATCH ab 01', 'WATCH ab -1', 'WATCH a b c', 'WATCH ab 1 as=', 'WATCH http=0', 'WATCH ab! 1']) {
      const parsed = parseDiscoveryRequest(line);
      expect(parsed.ok, line).toBe(false);
      if (!parsed.ok) expect(['BAD_ARITY', 'BAD_PORT']).toContain(parsed.failure.code);
    }
  });

  it('writes a change as pinned and reads every change back the same', () => {
    expect(
      formatWatchChange({ epoch: 'e1', seq: 5, kind: 'removed', units: ['ft', 'in'], endpoint: { host: '127.0.0.1', port: 4000 }, health: 'up' }),
    ).toBe('CHANGE e1 5 removed ft in 127.0.0.1 4000 up\n');
    fc.assert(
      fc.property(change, (value) => {
        const line = formatWatchChange(value).slice(0, -1);
        expect(isChangeLine(line)).toBe(true);
        const read = parseWatchLine(line);
        expect(read).toEqual({ ok: true, value: { kind: 'change', change: value } });
        expect(WatchChangeSchema.parse(value)).toEqual(value);
      }),
    );
  });

  it('reads the WATCH reply as a snapshot up to SYNCED, with wrong as a health', () => {
    const reader = createDiscoveryReplyReader('WATCH');
    expect(reader.push(formatWatchEntry({ units: ['ft', 'in'], endpoint: { host: '::1', port: 7 }, health: 'wrong' }).trim())).toEqual({ done: false });
    expect(reader.push('SYNCED e1 9')).toEqual({
      done: true,
      reply: { kind: 'synced', entries: [{ units: ['ft', 'in'], endpoint: { host: '::1', port: 7 }, health: 'wrong' }], position: { epoch: 'e1', seq: 9 } },
    });
  });

  it('takes no malformed line for a change', () => {
    for (const line of ['CHANGE e1 5 moved ft in 127.0.0.1 4000 up', 'CHANGE e1 5 added ft in 127.0.0.1 4000 sick', 'CHANGE e1 x added ft in 127.0.0.1 4000 up', 'CHANGE e1 5 added ft in 127.0.0.1', 'PONG']) {
      expect(parseWatchLine(line).ok, line).toBe(false);
    }
    expect(isChangeLine('PONG')).toBe(false);
  });
});
