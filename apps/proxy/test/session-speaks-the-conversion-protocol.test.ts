import { LineSplitter } from '@conv/protocol';
import { describe, expect, it } from 'vitest';
import { ProxySession } from '../src/session';

const framed = (line: string) => {
  const [first] = new LineSplitter().push(new TextEncoder().encode(`${line}\n`));
  if (!first) throw new Error('blank line');
  return first;
};

const doubling = () => new ProxySession((request) => Promise.resolve(`${request.amount * 2}\n`));

describe('a proxy session', () => {
  it('greets as a proxy', () => {
    expect(doubling().greeting()).toBe('HELLO proxy - send "<from> <to> <amount>"\n');
  });

  it('answers one request and closes, as the course fixed it', async () => {
    expect(await doubling().handle(framed('ft in 2'))).toEqual({ reply: '4\n', close: true });
  });

  it("answers a malformed request with the parser's failure and closes", async () => {
    const step = await doubling().handle(framed('ft in 0x10'));
    expect(step.reply).toMatch(/^FAILURE bad amount\. "0x10" .*\(BAD_AMOUNT\)\n$/);
    expect(step.close).toBe(true);
    expect((await doubling().handle(framed('ft in'))).reply).toMatch(/\(BAD_ARITY\)\n$/);
  });

  it('keeps the connection after PERSIST and answers every line in turn', async () => {
    const session = doubling();
    expect(await session.handle(framed('persist'))).toEqual({ reply: 'OK persistent\n', close: false });
    expect(await session.handle(framed('ft in 1'))).toEqual({ reply: '2\n', close: false });
    expect((await session.handle(framed('nonsense'))).close).toBe(false);
    expect(await session.handle(framed('in ft 3'))).toEqual({ reply: '6\n', close: false });
  });

  it('closes after a line too long, even in persistent mode', async () => {
    const session = doubling();
    await session.handle(framed('PERSIST'));
    const [tooLong] = new LineSplitter({ maxLineBytes: 8 }).push(new TextEncoder().encode('ft in 123456789\n'));
    if (!tooLong) throw new Error('expected a refused line');
    expect(await session.handle(tooLong)).toMatchObject({ close: true, reply: expect.stringMatching(/\(LINE_TOO_LONG\)\n$/) as unknown });
  });

  it('answers INTERNAL when answering throws, and keeps serving', async () => {
    const session = new ProxySession(() => Promise.reject(new Error('bug')));
    expect((await session.handle(framed('ft in 1'))).reply).toMatch(/^FAILURE internal error\. .*\(INTERNAL\)\n$/);
  });
});
