import { LineClient, type ServerProcess, stopAll } from '@conv/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ask, startConverter, startDiscovery, startProxy, waitUp } from './system';

let proxy: ServerProcess;
let discovery: ServerProcess;
const converters: Record<string, ServerProcess> = {};

beforeAll(async () => {
  discovery = await startDiscovery();
  const pairs = ['ft:in', 'ft:in', 'b:in', 'b:in', 'lbs:b', 'in:cm', 'cm:m'];
  const started = await Promise.all(pairs.map((pair) => startConverter(pair, discovery)));
  pairs.forEach((pair, i) => (converters[pair] ??= started[i] as ServerProcess));
  await waitUp(discovery, pairs.length);
  proxy = await startProxy(discovery);
}, 30_000);

afterAll(stopAll);

/** Asks a converter directly: the expected value of one hop of a chain. */
async function hop(pair: string, request: string): Promise<string> {
  const converter = converters[pair];
  if (!converter) throw new Error(`no converter ${pair}`);
  return ask(converter, request);
}

describe('the proxy, with real discovery and converters', () => {
  it('prints its banner with the discovery address', () => {
    expect(proxy.banner).toMatch(/^proxy listening on 127\.0\.0\.1:\d+ \(loopback only; --host to expose; discovery 127\.0\.0\.1:\d+\)$/);
  });

  it('greets as a proxy and answers a one-hop question both ways', async () => {
    const client = await LineClient.connect(proxy.port);
    client.send('ft in 1.25');
    await client.closed;
    expect(client.lines).toEqual(['HELLO proxy - send "<from> <to> <amount>"', '15']);
    expect(await ask(proxy, 'in ft 30')).toBe('2.5');
  });

  it('chains two hops both ways: b -> ft via b:in and in:ft', async () => {
    const inches = await hop('b:in', 'b in 3');
    expect(await ask(proxy, 'b ft 3')).toBe(await hop('ft:in', `in ft ${inches}`));
    const back = await hop('ft:in', 'ft in 2');
    expect(await ask(proxy, 'ft b 2')).toBe(await hop('b:in', `in b ${back}`));
  });

  it('chains four hops both ways: lbs -> b -> in -> cm -> m', async () => {
    let expected = '45.6';
    for (const [pair, from, to] of [['lbs:b', 'lbs', 'b'], ['b:in', 'b', 'in'], ['in:cm', 'in', 'cm'], ['cm:m', 'cm', 'm']] as const) {
      expected = await hop(pair, `${from} ${to} ${expected}`);
    }
    expect(await ask(proxy, 'lbs m 45.6')).toBe(expected);
    const back = Number(await ask(proxy, `m lbs ${expected}`));
    expect(back).toBeCloseTo(45.6, 9);
  });

  it('answers a unit to itself unchanged', async () => {
    expect(await ask(proxy, 'ft ft 2.5')).toBe('2.5');
  });

  it('turns a hop FAILURE into one clear FAILURE line', async () => {
    const reply = await ask(proxy, 'lbs m 1e308');
    expect(reply).toMatch(/^FAILURE upstream failed\. hop lbs->b at 127\.0\.0\.1:\d+ said: bad amount\. .*\[BAD_AMOUNT\] \(UPSTREAM_FAILED\)$/);
  });

  it('says NO_PATH when no chain connects the units', async () => {
    expect(await ask(proxy, 'ft kg 1')).toMatch(/^FAILURE no path\. .*\(NO_PATH\)$/);
  });

  it("answers a malformed request with the parser's failure", async () => {
    expect(await ask(proxy, 'ft in 0x10')).toMatch(/^FAILURE bad amount\. "0x10" .*\(BAD_AMOUNT\)$/);
    expect(await ask(proxy, 'ft in')).toMatch(/\(BAD_ARITY\)$/);
  });

  it('speaks the persistent mode too', async () => {
    const client = await LineClient.connect(proxy.port);
    await client.nextLine();
    expect(await client.request('PERSIST')).toEqual(['OK persistent']);
    expect(await client.request('ft in 1')).toEqual(['12']);
    expect(await client.request('in ft 24')).toEqual(['2']);
    client.close();
  });

  it('serves many clients at once', async () => {
    const replies = await Promise.all(Array.from({ length: 40 }, (_, i) => ask(proxy, `ft in ${i}`)));
    expect(replies).toEqual(Array.from({ length: 40 }, (_, i) => String(i * 12)));
  });

  it('pipelining (the default), gives every one of many clients at once its own answer, over one and four hops', async () => {
    const oneAtATime = await startProxy(discovery, ['--pipeline-depth', '1']);
    const requests = Array.from({ length: 90 }, (_, i) => (i % 3 === 0 ? `lbs m ${i}` : i % 3 === 1 ? `ft in ${i}` : `in ft ${i * 12}`));
    // What a proxy without pipelining answers, one request at a time.
    const expected: string[] = [];
    for (const request of requests) expected.push(await ask(oneAtATime, request));
    expect(await Promise.all(requests.map((request) => ask(proxy, request)))).toEqual(expected);
  });
});
