import { type FakeConverter, type FakeReply, type FakeRequest, startFakeConverter, waitFor } from '@conv/testkit';
import { silentLogger } from '@conv/server';
import { afterEach, describe, expect, it } from 'vitest';
import { ConverterPool } from '../src/converter-pool';

// Pool hygiene (issue 16, cases 6 and 7), over real sockets against scripted fake converters
// that speak PERSIST TAGGED and misbehave on cue; and pipelining (--pipeline-depth, issue 20):
// requests that reach one converter while a pooled connection has replies to come ride on it, in
// order, each reply carrying its request's tag.
const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0)) await cleanup();
});

async function converter(script?: (request: FakeRequest) => FakeReply | undefined, options: { tags?: boolean } = {}): Promise<FakeConverter> {
  const fake = await startFakeConverter({ units: ['ft', 'in'], factor: 12, persist: true, ...options, ...(script ? { script } : {}) });
  cleanups.push(() => fake.close());
  return fake;
}

function pool(options: { persistRetryMs?: number; pipelineDepth?: number; hopTimeoutMs?: number } = {}): ConverterPool {
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
      if (r.line.startsWith('PERSIST')) return undefined;
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
    const fake = await converter((r) => (r.connection === 1 && r.line === 'PERSIST TAGGED' ? 'close' : undefined));
    const converters = pool();
    // This request still gets its answer (one request on a connection of its own).
    expect(await answer(converters, fake, 1)).toBe('12');
    expect(await answer(converters, fake, 2)).toBe('24');
    expect(fake.requests.filter((line) => line === 'PERSIST TAGGED')).toHaveLength(2);
    const connections = fake.connections;
    for (const amount of [3, 4, 5]) expect(await answer(converters, fake, amount)).toBe(String(amount * 12));
    expect(fake.connections).toBe(connections);
  });

  it('refused is offered again after persistRetryMs, not remembered forever', async () => {
    let refusing = true;
    const handshakes = () => fake.requests.filter((line) => line.startsWith('PERSIST'));
    const fake = await converter((r) => (r.line.startsWith('PERSIST') && refusing ? ['FAILURE unknown command. (UNKNOWN_VERB)'] : undefined));
    const converters = pool({ persistRetryMs: 200 });
    expect(await answer(converters, fake, 1)).toBe('12');
    expect(handshakes()).toEqual(['PERSIST TAGGED', 'PERSIST']);
    // The server is upgraded (or restarted as a conv converter) on the same port.
    refusing = false;
    const meanwhile: string[] = [];
    await waitFor(
      async () => {
        meanwhile.push(await answer(converters, fake, 2));
        return handshakes().length === 3;
      },
      { what: 'PERSIST offered again', timeoutMs: 10_000 },
    );
    expect(new Set(meanwhile)).toEqual(new Set(['24']));
    expect(handshakes()[2]).toBe('PERSIST TAGGED');
    const connections = fake.connections;
    for (const amount of [3, 4, 5]) expect(await answer(converters, fake, amount)).toBe(String(amount * 12));
    expect(fake.connections).toBe(connections);
  });
});

/** Asks for 1..count at once (one turn of the event loop), once a first answer has pooled a connection. */
const together = async (converters: ConverterPool, fake: FakeConverter, count: number) => {
  expect(await answer(converters, fake, 100)).toBe('1200');
  return Promise.all(Array.from({ length: count }, (_, i) => answer(converters, fake, i + 1)));
};

describe('requests to one converter arriving together, with --pipeline-depth', () => {
  it('share one pooled connection and each gets its own answer', async () => {
    const fake = await converter();
    const answers = await together(pool({ pipelineDepth: 8 }), fake, 8);
    expect(answers).toEqual(['12', '24', '36', '48', '60', '72', '84', '96']);
    expect(fake.connections).toBe(1);
  });

  it('take one connection per request without pipelining (depth 1)', async () => {
    const fake = await converter();
    expect(await together(pool({ pipelineDepth: 1 }), fake, 4)).toEqual(['12', '24', '36', '48']);
    expect(fake.connections).toBe(4);
  });

  it('fill a connection up to the depth, then the next one', async () => {
    const fake = await converter();
    expect(await together(pool({ pipelineDepth: 3 }), fake, 7)).toEqual(['12', '24', '36', '48', '60', '72', '84']);
    // The pooled connection takes 3, two new ones 3 and 1 (a new connection's first request goes alone).
    expect(fake.connections).toBeGreaterThanOrEqual(3);
    expect(fake.connections).toBeLessThanOrEqual(5);
  });

  it('drop a connection that answers more lines than it was sent, once its batch is answered', async () => {
    // The last request of the batch on connection 1 is answered twice.
    const fake = await converter((r) => (r.connection === 1 && r.line === 'ft in 3' ? [r.reply, r.reply] : undefined));
    const converters = pool({ pipelineDepth: 8 });
    expect(await together(converters, fake, 3)).toEqual(['12', '24', '36']);
    expect(await answer(converters, fake, 4)).toBe('48');
    expect(fake.connections).toBe(2);
  });

  it('never hand a rider the answer to the request before it, when a converter answers one twice mid-batch', async () => {
    // The first of the batch is answered twice: untagged, every later rider would get the answer before its own.
    const fake = await converter((r) => (r.connection === 1 && r.line === 'ft in 1' ? [r.reply, r.reply] : undefined));
    const converters = pool({ pipelineDepth: 8 });
    const answers = await together(converters, fake, 4);
    // The rider the extra line reached fails (the router fails it over); the rest ask again on a fresh connection.
    expect(answers).toContain('dead');
    for (const [i, a] of answers.entries()) expect([String((i + 1) * 12), 'dead']).toContain(a);
    expect(answers[0]).toBe('12');
    expect(await answer(converters, fake, 5)).toBe('60');
  });

  it('do not ride on a converter from before tags: it gets plain PERSIST and one request per connection', async () => {
    const fake = await converter(undefined, { tags: false });
    const converters = pool({ pipelineDepth: 8 });
    expect(await together(converters, fake, 4)).toEqual(['12', '24', '36', '48']);
    expect(fake.requests.filter((line) => line.startsWith('PERSIST')).slice(0, 2)).toEqual(['PERSIST TAGGED', 'PERSIST']);
    expect(fake.requests.filter((line) => line === 'PERSIST TAGGED')).toHaveLength(1);
    // The refused handshake's connection, the pooled one, and three more for the batch of four.
    expect(fake.connections).toBe(5);
  });

  it('when the converter stops answering, fail within the hop timeout and leave the pool usable', async () => {
    let stuck = true;
    const fake = await converter((r) => (stuck && r.connection === 1 && r.index > 2 ? [] : undefined));
    const converters = pool({ pipelineDepth: 8, hopTimeoutMs: 300 });
    const answers = await together(converters, fake, 3);
    // The first to time out cuts the connection; the others were sent again on a fresh one.
    expect(answers.filter((a) => a === 'dead')).not.toHaveLength(0);
    for (const [i, a] of answers.entries()) expect([String((i + 1) * 12), 'dead']).toContain(a);
    stuck = false;
    expect(await answer(converters, fake, 5)).toBe('60');
  });
});
