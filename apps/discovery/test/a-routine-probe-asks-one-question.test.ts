import { type FakeConverter, startFakeConverter } from '@conv/testkit';
import { afterEach, describe, expect, it } from 'vitest';
import { createConversionProber } from '../src/probe';

// A pair the catalog does not define (aa, bb) is checked by stability and inverse. Course servers
// answer one request per connection, so each question asked is a connection opened.
const converters: FakeConverter[] = [];
afterEach(async () => {
  await Promise.all(converters.splice(0).map((converter) => converter.close()));
});

async function converter(options: Parameters<typeof startFakeConverter>[0]): Promise<FakeConverter> {
  const started = await startFakeConverter(options);
  converters.push(started);
  return started;
}

/** Runs one probe and returns its verdict with the lines it asked. */
async function probeOnce(probe: ReturnType<typeof createConversionProber>, fake: FakeConverter) {
  const before = fake.requests.length;
  const result = await probe({ host: '127.0.0.1', port: fake.port }, ['aa', 'bb']);
  return { result, asked: fake.requests.slice(before) };
}

describe('probes of a pair checked by stability and inverse', () => {
  it('ask both ways the first time, then one question per probe, the two directions in turn', async () => {
    const fake = await converter({ units: ['aa', 'bb'], factor: 4 });
    const probe = createConversionProber({ timeoutMs: 2000 });
    const probes = [];
    for (let i = 0; i < 5; i++) probes.push(await probeOnce(probe, fake));
    expect(probes.map((p) => p.result)).toEqual(Array.from({ length: 5 }, () => ({ ok: true })));
    expect(probes.map((p) => p.asked)).toEqual([['aa bb 1', 'bb aa 4'], ['aa bb 1'], ['bb aa 4'], ['aa bb 1'], ['bb aa 4']]);
    expect(fake.connections).toBe(6);
  });

  it('find a reverse direction that broke after the first probe, and then ask both ways again', async () => {
    let broken = false;
    const fake = await converter({ units: ['aa', 'bb'], factor: 4, answer: (line) => (broken && line.startsWith('bb aa ') ? '3' : undefined) });
    const probe = createConversionProber({ timeoutMs: 2000 });
    await probeOnce(probe, fake);
    await probeOnce(probe, fake);
    broken = true;
    const inverse = await probeOnce(probe, fake);
    expect(inverse.asked).toEqual(['bb aa 4']);
    expect(inverse.result).toMatchObject({ ok: false, verdict: 'wrong', reason: 'bb aa 4 answered 3, not 1 (aa bb 1 answered 4)' });
    broken = false;
    const next = await probeOnce(probe, fake);
    expect(next).toEqual({ result: { ok: true }, asked: ['aa bb 1', 'bb aa 4'] });
  });

  it('find an answer that changed, and keep finding it while it keeps changing', async () => {
    let factor = 4;
    const fake = await converter({
      units: ['aa', 'bb'],
      answer: (line) => {
        const [from, , amount] = line.split(' ');
        return from === 'aa' ? String(Number(amount) * factor) : String(Number(amount) / factor);
      },
    });
    const probe = createConversionProber({ timeoutMs: 2000 });
    await probeOnce(probe, fake);
    factor = 5;
    const changed = await probeOnce(probe, fake);
    expect(changed.result).toMatchObject({ verdict: 'wrong', reason: 'aa bb 1 answered 5, and 4 the time before' });
    expect(changed.asked).toEqual(['aa bb 1']);
    factor = 6;
    const again = await probeOnce(probe, fake);
    expect(again.result).toMatchObject({ verdict: 'wrong', reason: 'aa bb 1 answered 6, and 5 the time before' });
    expect(again.asked).toEqual(['aa bb 1']);
    // Steady again: both ways are asked once more before single questions resume.
    expect(await probeOnce(probe, fake)).toEqual({ result: { ok: true }, asked: ['aa bb 1', 'bb aa 6'] });
    expect(await probeOnce(probe, fake)).toEqual({ result: { ok: true }, asked: ['aa bb 1'] });
  });
});
