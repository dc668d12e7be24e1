import { type FakeConverter, type FakeReply, type FakeRequest, startFakeConverter } from '@conv/testkit';
import { silentLogger } from '@conv/server';
import { afterEach, describe, expect, it } from 'vitest';
import { ConverterPool } from '../src/converter-pool';

// --pipeline-depth (issue 20): requests to one converter that arrive in the same turn of the
// event loop go out together, on one pooled connection, and read their replies in order.
const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0)) await cleanup();
});

async function converter(script?: (request: FakeRequest) => FakeReply | undefined): Promise<FakeConverter> {
  const fake = await startFakeConverter({ units: ['ft', 'in'], factor: 12, persist: true, ...(script ? { script } : {}) });
  cleanups.push(() => fake.close());
  return fake;
}

function pool(options: { pipelineDepth: number; hopTimeoutMs?: number }): ConverterPool {
  const created = new ConverterPool({ hopTimeoutMs: 2000, log: silentLogger, ...options });
  cleanups.push(() => created.close());
  return created;
}

const at = (fake: FakeConverter) => ({ host: '127.0.0.1', port: fake.port });
const answer = async (converters: ConverterPool, fake: FakeConverter, amount: number) => {
  const attempt = await converters.convert(at(fake), `ft in ${amount}\n`);
  return attempt.kind === 'line' ? attempt.line : attempt.kind;
};
/** Asks for 1..count at once (one turn of the event loop), once a first answer has pooled a connection. */
const together = async (converters: ConverterPool, fake: FakeConverter, count: number) => {
  expect(await answer(converters, fake, 100)).toBe('1200');
  return Promise.all(Array.from({ length: count }, (_, i) => answer(converters, fake, i + 1)));
};

describe('requests to one converter arriving together', () => {
  it('share one pooled connection and each gets its own answer', async () => {
    const fake = await converter();
    const answers = await together(pool({ pipelineDepth: 8 }), fake, 8);
    expect(answers).toEqual(['12', '24', '36', '48', '60', '72', '84', '96']);
    expect(fake.connections).toBe(1);
  });

  it('take one connection per request without pipelining (depth 1, the default)', async () => {
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
