import type { LineSession } from '@conv/server';
import { describe, expect, it } from 'vitest';
import { createProxySession } from '../src/session';

const doubling = () => createProxySession((request) => Promise.resolve({ outcome: 'ok' as const, text: `${request.amount * 2}\n` }));

/** One request line: the reply, and whether the line server closes the connection after it (mode `single`). */
async function step(session: LineSession, line: string): Promise<{ reply: string; close: boolean }> {
  const reply = await session.handle(line);
  return { reply, close: session.mode === 'single' };
}

describe('a proxy session', () => {
  it('greets as a proxy', () => {
    expect(doubling().greeting).toBe('HELLO proxy - send "<from> <to> <amount>"\n');
  });

  it('answers one request and closes, as the course fixed it', async () => {
    expect(await step(doubling(), 'ft in 2')).toEqual({ reply: '4\n', close: true });
  });

  it("answers a malformed request with the parser's failure and closes", async () => {
    const answered = await step(doubling(), 'ft in 0x10');
    expect(answered.reply).toMatch(/^FAILURE bad amount\. "0x10" .*\(BAD_AMOUNT\)\n$/);
    expect(answered.close).toBe(true);
    expect((await step(doubling(), 'ft in')).reply).toMatch(/\(BAD_ARITY\)\n$/);
  });

  it('keeps the connection after PERSIST and answers every line in turn', async () => {
    const session = doubling();
    expect(await step(session, 'persist')).toEqual({ reply: 'OK persistent\n', close: false });
    expect(await step(session, 'ft in 1')).toEqual({ reply: '2\n', close: false });
    expect((await step(session, 'nonsense')).close).toBe(false);
    expect(await step(session, 'in ft 3')).toEqual({ reply: '6\n', close: false });
  });

  it('answers INTERNAL when answering throws, and keeps serving', async () => {
    // The first answer throws, the next ones work: one bug costs one request, not the connection.
    let calls = 0;
    const session = createProxySession((request) => (calls++ === 0 ? Promise.reject(new Error('bug')) : Promise.resolve({ outcome: 'ok' as const, text: `${request.amount * 2}\n` })));
    expect(await step(session, 'persist')).toEqual({ reply: 'OK persistent\n', close: false });
    const failed = await step(session, 'ft in 1');
    expect(failed.reply).toMatch(/^FAILURE internal error\. .*\(INTERNAL\)\n$/);
    expect(failed.close).toBe(false);
    expect(await step(session, 'ft in 2')).toEqual({ reply: '4\n', close: false });
    expect(await step(session, 'in ft 3')).toEqual({ reply: '6\n', close: false });
  });
});
