import { type FakeConverter, type FakeReply, type FakeRequest, startFakeConverter, waitFor } from '@conv/testkit';
import { silentLogger } from '@conv/server';
import { afterEach, describe, expect, it } from 'vitest';
import { ConverterPool } from '../src/converter-pool';

// Pool hygiene (issue 16, cases 6 and 7), over real sockets against scripted fake converters
// that speak PERSIST and misbehave on cue.
const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0)) await cleanup();
});

async function converter(script: (request: FakeRequest) => FakeReply | undefined): Promise<FakeConverter> {
  const fake = await startFakeConverter({ units: ['ft', 'in'], factor: 12, persist: true, script });
  cleanups.push(() => fake.close());
  return fake;
}

function pool(options: { persistRetryMs?: number } = {}): ConverterPool {
  const created = new ConverterPool({ hopTimeoutMs: 2000, log: silentLogger, ...options });
  cleanups.push(() => created.close());
  return created;
}

const at = (fake: FakeConverter) => ({ host: '127.0.0.1', port: fake.port });
const answer = async (converters: ConverterPool, fake: FakeConverter, amount: number) => {
  const attempt = await converters.convert(at(fake), `ft in ${amount}\n`);
  return attempt.kind === 'line' ? attempt.line : attempt.kind;
};

describe('a pooled connection', () => {
  it('is destroyed when its server answers one request twice: later answers are not shifted', async () => {
    // The first request on the first connection is answered twice, in one write.
    const fake = await converter((r) => (r.connection === 1 && r.line === 'ft in 1' ? [r.reply, r.reply] : undefined));
    const converters = pool();
    expect(await answer(converters, fake, 1)).toBe('12');
    expect(await answer(converters, fake, 2)).toBe('24');
    expect(await answer(converters, fake, 3)).toBe('36');
    expect(fake.connections).toBe(2);
  });

  it('is destroyed after a malformed reply, so the answer it owed never answers the next request', async () => {
    // Garbage for the first request; the real answer comes only with the next reply on that connection.
    const owed = new Map<number, string>();
    const fake = await converter((r) => {
      if (r.line === 'PERSIST') return undefined;
      if (r.connection === 1 && r.index === 2) {
        owed.set(r.connection, r.reply);
        return ['all is well, thank you'];
      }
      const debt = owed.get(r.connection);
      owed.delete(r.connection);
      return debt === undefined ? undefined : [debt, r.reply];
    });
    const converters = pool();
    expect(await answer(converters, fake, 1)).toBe('all is well, thank you');
    expect(await answer(converters, fake, 2)).toBe('24');
    expect(await answer(converters, fake, 3)).toBe('36');
  });

  it('stays in the pool while its replies line up, failures included', async () => {
    const fake = await converter((r) => (r.line === 'kg g 1' ? ['FAILURE wrong pair. This server converts ft <-> in only. (WRONG_PAIR)'] : undefined));
    const converters = pool();
    expect(await answer(converters, fake, 1)).toBe('12');
    const failed = await converters.convert(at(fake), 'kg g 1\n');
    expect(failed.kind === 'line' ? failed.line : failed.kind).toMatch(/\(WRONG_PAIR\)$/);
    expect(await answer(converters, fake, 2)).toBe('24');
    expect(fake.connections).toBe(1);
  });
});

describe('the PERSIST handshake', () => {
  it('cut short by a close between greeting and OK persistent is tried again, and the connection then pooled', async () => {
    const fake = await converter((r) => (r.connection === 1 && r.line === 'PERSIST' ? 'close' : undefined));
    const converters = pool();
    // This request still gets its answer (one request on a connection of its own).
    expect(await answer(converters, fake, 1)).toBe('12');
    expect(await answer(converters, fake, 2)).toBe('24');
    expect(fake.requests.filter((line) => line === 'PERSIST')).toHaveLength(2);
    const connections = fake.connections;
    for (const amount of [3, 4, 5]) expect(await answer(converters, fake, amount)).toBe(String(amount * 12));
    expect(fake.connections).toBe(connections);
  });

  it('refused is offered again after persistRetryMs, not remembered forever', async () => {
    let refusing = true;
    const fake = await converter((r) => (r.line === 'PERSIST' && refusing ? ['FAILURE unknown command. (UNKNOWN_VERB)'] : undefined));
    const converters = pool({ persistRetryMs: 200 });
    expect(await answer(converters, fake, 1)).toBe('12');
    expect(fake.requests.filter((line) => line === 'PERSIST')).toHaveLength(1);
    // The server is upgraded (or restarted as a conv converter) on the same port.
    refusing = false;
    const meanwhile: string[] = [];
    await waitFor(
      async () => {
        meanwhile.push(await answer(converters, fake, 2));
        return fake.requests.filter((line) => line === 'PERSIST').length === 2;
      },
      { what: 'PERSIST offered again', timeoutMs: 10_000 },
    );
    expect(new Set(meanwhile)).toEqual(new Set(['24']));
    const connections = fake.connections;
    for (const amount of [3, 4, 5]) expect(await answer(converters, fake, amount)).toBe(String(amount * 12));
    expect(fake.connections).toBe(connections);
  });
});
