import { type FakeConverter, startFakeConverter } from '@conv/testkit';
import { afterEach, describe, expect, it } from 'vitest';
import { type ThreadedProber, createThreadedProber } from '../src/probe';

// The probe thread's script as discovery runs it: the built bundle beside main.js (the test script builds first).
const SCRIPT = new URL('../dist/probe-worker.js', import.meta.url);
// A thread that takes a probe and dies: what a crash of the probe thread looks like.
const DYING = new URL(`data:text/javascript,${encodeURIComponent("import { parentPort } from 'node:worker_threads'; parentPort.on('message', () => process.exit(7));")}`);

const converters: FakeConverter[] = [];
const probers: ThreadedProber[] = [];
afterEach(async () => {
  await Promise.all(probers.splice(0).map((prober) => prober.close()));
  await Promise.all(converters.splice(0).map((converter) => converter.close()));
});

async function converter(options: Parameters<typeof startFakeConverter>[0]): Promise<FakeConverter> {
  const started = await startFakeConverter(options);
  converters.push(started);
  return started;
}

function prober(script: URL): { prober: ThreadedProber; fallbacks: string[] } {
  const fallbacks: string[] = [];
  const started = createThreadedProber({ timeoutMs: 2000, script, onFallback: (reason) => fallbacks.push(reason) });
  probers.push(started);
  return { prober: started, fallbacks };
}

describe('probes in their own thread', () => {
  it('give the same verdicts as probes on the main thread: right, wrong, and dead', async () => {
    const honest = await converter({ units: ['ft', 'in'] });
    const liar = await converter({ units: ['ft', 'in'], factor: 13 });
    const gone = await converter({ units: ['ft', 'in'] });
    await gone.close();
    const { prober: threaded, fallbacks } = prober(SCRIPT);
    const host = '127.0.0.1';
    const [right, wrong, dead] = await Promise.all([
      threaded.probe({ host, port: honest.port }, ['ft', 'in']),
      threaded.probe({ host, port: liar.port }, ['ft', 'in']),
      threaded.probe({ host, port: gone.port }, ['ft', 'in']),
    ]);
    expect(right).toEqual({ ok: true });
    expect(wrong).toMatchObject({ ok: false, verdict: 'wrong', answered: '13' });
    expect(dead).toMatchObject({ ok: false });
    expect(dead).not.toHaveProperty('verdict', 'wrong');
    // The thread did the work: the converter saw the probe, and nothing fell back.
    expect(honest.requests).toContain('ft in 1');
    expect(fallbacks).toEqual([]);
  });

  it('go on in the main thread when the thread cannot start, with the same verdicts', async () => {
    const honest = await converter({ units: ['ft', 'in'] });
    const { prober: threaded, fallbacks } = prober(new URL('./no-such-probe-worker.js', SCRIPT));
    expect(await threaded.probe({ host: '127.0.0.1', port: honest.port }, ['ft', 'in'])).toEqual({ ok: true });
    expect(fallbacks).toHaveLength(1);
  });

  it('ask again in the main thread the probes a dying thread held, so a lost thread never reads as dead servers', async () => {
    const honest = await converter({ units: ['ft', 'in'] });
    const { prober: threaded, fallbacks } = prober(DYING);
    const verdicts = await Promise.all(Array.from({ length: 5 }, () => threaded.probe({ host: '127.0.0.1', port: honest.port }, ['ft', 'in'])));
    expect(verdicts).toEqual(Array.from({ length: 5 }, () => ({ ok: true })));
    expect(fallbacks).toEqual(['the probe thread exited with code 7']);
    // Later probes run here from the start.
    expect(await threaded.probe({ host: '127.0.0.1', port: honest.port }, ['ft', 'in'])).toEqual({ ok: true });
  });
});
