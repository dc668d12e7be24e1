import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type FramedLine, LineSplitter } from '../src/index';

const encode = (text: string) => new TextEncoder().encode(text);
const lines = (framed: FramedLine[]) => framed.map((f) => (f.ok ? f.line : `!${f.failure.code}`));

function feed(splitter: LineSplitter, chunks: Uint8Array[]): string[] {
  return [...chunks.flatMap((c) => lines(splitter.push(c))), ...lines(splitter.end())];
}

describe('LineSplitter', () => {
  it('yields complete lines, drops \\r before \\n and skips blank lines', () => {
    const splitter = new LineSplitter();
    expect(feed(splitter, [encode('PING\r\n\n  \t \r\nLOOKUP ft in\nLI'), encode('ST\n')])).toEqual([
      'PING',
      'LOOKUP ft in',
      'LIST',
    ]);
  });

  it('gives the same lines for every possible split of a text with multi-byte characters', () => {
    const text = 'µm € 1.5\r\n$ ¥ 3\n🍌 b 2\nLOOKUP lbs b\n';
    const bytes = encode(text);
    const expected = ['µm € 1.5', '$ ¥ 3', '🍌 b 2', 'LOOKUP lbs b'];
    for (let i = 0; i <= bytes.length; i++) {
      for (let j = i; j <= bytes.length; j++) {
        const chunks = [bytes.subarray(0, i), bytes.subarray(i, j), bytes.subarray(j)];
        expect(feed(new LineSplitter(), chunks), `split at ${i}, ${j}`).toEqual(expected);
      }
    }
  });

  it('reads Node Buffers (decoded in place when ASCII) exactly as other byte arrays', () => {
    const piece = fc.constantFrom('PING', 'LOOKUP ft in', ' \t', '\r', '\n', '\r\n', 'µm', '🍌', '\u0000', '\u007f', 'x'.repeat(20));
    const input = fc.tuple(fc.array(piece, { maxLength: 12 }), fc.array(fc.nat(), { maxLength: 4 }));
    fc.assert(
      fc.property(input, ([pieces, cuts]) => {
        const bytes = encode(pieces.join(''));
        const at = [...new Set(cuts.map((c) => c % (bytes.length + 1)))].sort((a, b) => a - b);
        const bounds = [0, ...at, bytes.length];
        const chunks = bounds.slice(1).map((end, i) => bytes.slice(bounds[i], end));
        const asBuffers = chunks.map((chunk) => Buffer.from(chunk));
        expect(feed(new LineSplitter({ maxLineBytes: 16 }), asBuffers)).toEqual(feed(new LineSplitter({ maxLineBytes: 16 }), chunks));
      }),
      { numRuns: 1000 },
    );
  });

  it('gives the same lines when fed one byte at a time', () => {
    const bytes = encode('🍌🍌 b\nft in 1\n');
    const chunks = Array.from(bytes, (byte) => Uint8Array.of(byte));
    expect(feed(new LineSplitter(), chunks)).toEqual(['🍌🍌 b', 'ft in 1']);
  });

  it('counts a last line without a newline when the stream ends', () => {
    const splitter = new LineSplitter();
    expect(lines(splitter.push(encode('PING\nLIST')))).toEqual(['PING']);
    expect(lines(splitter.end())).toEqual(['LIST']);
  });

  it('accepts a line of exactly the limit, with or without \\r, split anywhere', () => {
    const line = 'x'.repeat(16);
    for (const ending of ['\n', '\r\n']) {
      const bytes = encode(line + ending);
      for (let i = 0; i <= bytes.length; i++) {
        const splitter = new LineSplitter({ maxLineBytes: 16 });
        expect(feed(splitter, [bytes.subarray(0, i), bytes.subarray(i)])).toEqual([line]);
      }
    }
  });

  it('refuses a line one byte over the limit, once, and goes on with the next line', () => {
    const bytes = encode(`${'x'.repeat(17)}\nPING\n`);
    for (let i = 0; i <= bytes.length; i++) {
      const splitter = new LineSplitter({ maxLineBytes: 16 });
      expect(feed(splitter, [bytes.subarray(0, i), bytes.subarray(i)]), `split at ${i}`).toEqual([
        '!LINE_TOO_LONG',
        'PING',
      ]);
    }
  });

  it('never buffers more than the limit while a client sends 1 MB without a newline', () => {
    const splitter = new LineSplitter({ maxLineBytes: 4096 });
    const chunk = new Uint8Array(64 * 1024).fill(0x41);
    const seen: string[] = [];
    for (let sent = 0; sent < 1024 * 1024; sent += chunk.length) {
      seen.push(...lines(splitter.push(chunk)));
      expect(splitter.bufferedBytes).toBeLessThanOrEqual(4097);
    }
    seen.push(...lines(splitter.push(encode('\nPING\n'))));
    expect(seen).toEqual(['!LINE_TOO_LONG', 'PING']);
    expect(lines(splitter.end())).toEqual([]);
  });

  it('refuses a line that is not UTF-8 and keeps the following lines', () => {
    const splitter = new LineSplitter();
    const bad = Uint8Array.of(0x66, 0x74, 0x20, 0xff, 0xfe, 0x0a);
    expect(feed(splitter, [bad, encode('PING\n')])).toEqual(['!INVALID_UTF8', 'PING']);
  });

  it('refuses a multi-byte character cut short by the newline', () => {
    const splitter = new LineSplitter();
    const euro = encode('€');
    expect(feed(splitter, [euro.subarray(0, 2), encode('\n')])).toEqual(['!INVALID_UTF8']);
  });

  it('reports the failure with a sentence that states the limit', () => {
    const [framed] = new LineSplitter({ maxLineBytes: 8 }).push(encode('123456789\n'));
    expect(framed).toEqual({
      ok: false,
      failure: { code: 'LINE_TOO_LONG', message: 'line too long. Lines are limited to 8 bytes.' },
    });
  });
});
