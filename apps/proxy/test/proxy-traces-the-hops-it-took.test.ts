import { parseTracedHop } from '@conv/protocol';
import { exchange, stopAll } from '@conv/testkit';
import { afterEach, describe, expect, it } from 'vitest';
import { ask, startConverter, startDiscovery, startProxy, waitUp } from './system';

afterEach(stopAll);

describe('TRACE through the proxy', () => {
  it('names every conversion it made and the converter that answered it, then the answer', async () => {
    const discovery = await startDiscovery();
    const lbsB = await startConverter('lbs:b', discovery);
    const bIn = await startConverter('b:in', discovery);
    const inCm = await startConverter('in:cm', discovery);
    await waitUp(discovery, 3);
    const proxy = await startProxy(discovery);

    const [greeting, ...lines] = await exchange(proxy.port, 'TRACE lbs cm 1');
    expect(greeting).toMatch(/^HELLO proxy/);
    const hops = lines.slice(0, -1).map((line) => parseTracedHop(line));
    expect(hops.map((hop) => hop && [hop.from, hop.to, hop.endpoint.port])).toEqual([
      ['lbs', 'b', lbsB.port],
      ['b', 'in', bIn.port],
      ['in', 'cm', inCm.port],
    ]);
    // Each hop starts from the previous hop's answer, and the last one's answer is the reply.
    expect(hops[0]?.input).toBe(1);
    expect(hops[1]?.input).toBe(hops[0]?.output);
    expect(hops[2]?.input).toBe(hops[1]?.output);
    expect(Number(lines.at(-1))).toBe(hops[2]?.output);
    expect(lines.at(-1)).toBe(await ask(proxy, 'lbs cm 1'));
  });

  it('answers a trace that cannot be routed with the same one FAILURE line as a plain request', async () => {
    const discovery = await startDiscovery();
    await startConverter('ft:in', discovery);
    await waitUp(discovery, 1);
    const proxy = await startProxy(discovery);
    const [, ...lines] = await exchange(proxy.port, 'TRACE ft kg 1');
    expect(lines).toEqual([await ask(proxy, 'ft kg 1')]);
    expect(lines[0]).toMatch(/^FAILURE no path\./);
  });
});
