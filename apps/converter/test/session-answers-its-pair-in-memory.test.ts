import { describe, expect, it } from 'vitest';
import { createCatalog } from '@conv/conversion';
import { LineSplitter } from '@conv/protocol';
import { type PairConversion, affineConversion, resolvePair } from '../src/pair';
import { createSession } from '../src/session';

const catalog = createCatalog();
const pair = (a: string, b: string): PairConversion => resolvePair({ pair: [a, b] }, catalog).conversion;

/** Feeds `input` to a session line by line, closing after a reply in `single` mode, as the line server does. */
function converse(conversion: PairConversion, input: string): { lines: string[]; closed: boolean } {
  const session = createSession(conversion);
  const splitter = new LineSplitter();
  let out = session.greeting;
  for (const framed of [...splitter.push(new TextEncoder().encode(input)), ...splitter.end()]) {
    if (!framed.ok) throw new Error('framing is the line server\'s job (packages/server/test)');
    out += session.handle(framed.line);
    if (session.mode === 'single') return { lines: out.trimEnd().split('\n'), closed: true };
  }
  return { lines: out.trimEnd().split('\n'), closed: false };
}

describe('a converter session, one request per connection', () => {
  it('greets naming its two units, answers ft -> in and closes', () => {
    expect(converse(pair('ft', 'in'), 'ft in 1.25\n')).toEqual({
      lines: ['HELLO converter ft in - send "<from> <to> <amount>"', '15'],
      closed: true,
    });
  });

  it('converts the other direction too', () => {
    expect(converse(pair('ft', 'in'), 'in ft 30\n').lines[1]).toBe('2.5');
  });

  it('answers exactly per the catalog, rounded once', () => {
    expect(converse(pair('ft', 'm'), 'ft m 1\n').lines[1]).toBe('0.3048');
    expect(converse(pair('C', 'F'), 'C F 100\n').lines[1]).toBe('212');
    expect(converse(pair('C', 'F'), 'F C -40\n').lines[1]).toBe('-40');
    expect(converse(pair('lbs', 'kg'), 'lbs kg 45.6\n').lines[1]).toBe('20.683812072'); // 45.6 * 0.45359237, exact
  });

  it('serves the symbols --pair gave, such as $ and gK', () => {
    expect(converse(pair('$', 'y'), '$ y 1\n').lines[1]).toBe('140.5001');
    expect(converse(pair('b', 'gK'), 'gK b 0.422\n').lines[1]).toBe('1');
  });

  it('answers any other pair with WRONG_PAIR naming its own pair', () => {
    for (const request of ['kg lbs 3', 'ft ft 1', 'in in 1', 'feet in 1']) {
      expect(converse(pair('ft', 'in'), `${request}\n`)).toEqual({
        lines: [expect.any(String), 'FAILURE wrong pair. This server converts ft <-> in only. (WRONG_PAIR)'],
        closed: true,
      });
    }
  });

  it('answers a malformed line with the parser failure and closes', () => {
    const cases: [string, string][] = [
      ['ft in', 'BAD_ARITY'],
      ['ft in 0x10', 'BAD_AMOUNT'],
      ['ft in 1 2', 'BAD_ARITY'],
      ['hello', 'BAD_ARITY'],
    ];
    for (const [line, code] of cases) {
      const { lines, closed } = converse(pair('ft', 'in'), `${line}\n`);
      expect(lines[1]).toMatch(new RegExp(`^FAILURE .*\\(${code}\\)$`));
      expect(closed).toBe(true);
    }
    expect(converse(pair('ft', 'in'), 'ft in 0x10\n').lines[1]).toBe(
      'FAILURE bad amount. "0x10" is not a decimal number such as 15, -2.5, 1.25e3 or .5. (BAD_AMOUNT)',
    );
  });

  it('answers a result beyond the largest double with BAD_AMOUNT instead of Infinity', () => {
    expect(converse(pair('ft', 'in'), 'ft in 1e308\n').lines[1]).toMatch(/^FAILURE bad amount\. .*\(BAD_AMOUNT\)$/);
  });

  it('answers only the first request of a one-shot connection', () => {
    expect(converse(pair('ft', 'in'), 'ft in 1\nft in 2\n')).toEqual({ lines: [expect.any(String), '12'], closed: true });
  });
});

describe('a converter session in persistent mode', () => {
  it('acknowledges PERSIST, answers every line in order and stays open', () => {
    const { lines, closed } = converse(pair('ft', 'in'), 'PERSIST\nft in 1\nin ft 30\nkg lbs 1\nft in nope\nft in 2\n');
    expect(lines.slice(1)).toEqual([
      'OK persistent',
      '12',
      '2.5',
      'FAILURE wrong pair. This server converts ft <-> in only. (WRONG_PAIR)',
      'FAILURE bad amount. "nope" is not a decimal number such as 15, -2.5, 1.25e3 or .5. (BAD_AMOUNT)',
      '24',
    ]);
    expect(closed).toBe(false);
  });

  it('accepts persist in any case, as verbs are', () => {
    expect(converse(pair('ft', 'in'), 'persist\nft in 1\n').lines.slice(1)).toEqual(['OK persistent', '12']);
  });

  it('after PERSIST TAGGED, answers each request with the tag it came with, and an untagged line untagged', () => {
    const { lines, closed } = converse(pair('ft', 'in'), 'PERSIST TAGGED\n#1 ft in 1\n#2 kg lbs 1\n#x7 in ft 30\nft in 2\n#3 ft in nope\n');
    expect(lines.slice(1)).toEqual([
      'OK persistent tagged',
      '#1 12',
      '#2 FAILURE wrong pair. This server converts ft <-> in only. (WRONG_PAIR)',
      '#x7 2.5',
      '24',
      '#3 FAILURE bad amount. "nope" is not a decimal number such as 15, -2.5, 1.25e3 or .5. (BAD_AMOUNT)',
    ]);
    expect(closed).toBe(false);
  });

  it('after plain PERSIST, reads a tag as a malformed request, as before tags existed', () => {
    expect(converse(pair('ft', 'in'), 'PERSIST\n#1 ft in 1\n').lines.slice(1)).toEqual([
      'OK persistent',
      'FAILURE wrong number of arguments. a request is "<from> <to> <amount>", e.g. "ft in 1.25"; got 4 tokens. (BAD_ARITY)',
    ]);
  });
});

describe('a pair served by --factor and --offset', () => {
  it('converts b = a * factor + offset and back', () => {
    const conversion = affineConversion(['tc', 'tf'], 1.8, 32);
    expect(converse(conversion, 'tc tf 100\n').lines[1]).toBe('212');
    expect(converse(conversion, 'tf tc 212\n').lines[1]).toBe('100');
    expect(conversion.definition).toBe('tf = tc * 1.8 + 32');
  });

  it('serves units the catalog does not know', () => {
    const { conversion, factorOverridesCatalog } = resolvePair({ pair: ['widget', 'gadget'], factor: 3 }, catalog);
    expect(factorOverridesCatalog).toBe(false);
    expect(converse(conversion, 'gadget widget 1.5\n').lines[1]).toBe('0.5');
  });

  it('wins over the catalog when both could answer, and says so', () => {
    const resolved = resolvePair({ pair: ['ft', 'in'], factor: 10 }, catalog);
    expect(resolved.factorOverridesCatalog).toBe(true);
    expect(converse(resolved.conversion, 'ft in 2\n').lines[1]).toBe('20');
  });

  it('is required when the catalog cannot derive the pair, with the catalog sentence', () => {
    expect(() => resolvePair({ pair: ['C', 'kg'] }, catalog)).toThrowErrorMatchingInlineSnapshot(
      `[ConverterError: cannot serve C:kg: Cannot convert "C" (temperature) to "kg" (mass): no banana fact bridges temperature and mass. Give --factor F (1 C = F kg) to serve it anyway.]`,
    );
    expect(() => resolvePair({ pair: ['zz', 'in'] }, catalog)).toThrow(expect.objectContaining({ code: 'UNDERIVABLE_PAIR' }));
  });
});
