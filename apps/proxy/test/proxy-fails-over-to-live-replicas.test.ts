import { type ServerProcess, findLogs, stopAll, waitFor, logMatches, waitForLog } from '@conv/testkit';
import { afterEach, describe, expect, it } from 'vitest';
import { ask, startConverter, startDiscovery, startProxy, waitUp } from './system';

const stopped: ServerProcess[] = [];

afterEach(async () => {
  // A SIGSTOPped process must be continued, or SIGKILL would still end it but leave it stuck until then.
  for (const process of stopped.splice(0)) process.kill('SIGCONT');
  await stopAll();
});

async function system(replicas: number, proxyFlags: readonly string[] = []) {
  const discovery = await startDiscovery();
  const converters = await Promise.all(Array.from({ length: replicas }, () => startConverter('ft:in', discovery)));
  await waitUp(discovery, replicas);
  const proxy = await startProxy(discovery, ['--log-level', 'debug', '--path-ttl', '100ms', ...proxyFlags]);
  return { discovery, converters, proxy };
}

/** Asks until the proxy's debug log shows every replica answering: it has learned them all. */
async function useEveryReplica(proxy: ServerProcess, converters: readonly ServerProcess[]): Promise<void> {
  const answers: string[] = [];
  await waitFor(
    async () => {
      answers.push(await ask(proxy, 'ft in 1'));
      const answered = findLogs(proxy.output(), 'debug', 'hop-answered');
      return converters.every((c) => answered.some((e) => e.from === 'ft' && e.to === 'in' && e.endpoint === `127.0.0.1:${c.port}`));
    },
    { what: 'every replica answering through the proxy', timeoutMs: 10_000 },
  );
  // Judged after the wait: a wrong answer inside the probe would only be retried.
  expect(answers.filter((answer) => answer !== '12'), 'every answer while waiting').toEqual([]);
}

async function askMany(proxy: ServerProcess, count: number): Promise<string[]> {
  const replies: string[] = [];
  for (let i = 1; i <= count; i++) replies.push(await ask(proxy, `ft in ${i}`));
  return replies;
}

const expected = (count: number) => Array.from({ length: count }, (_, i) => String((i + 1) * 12));

describe('failover between replicas of a pair', () => {
  it('uses both replicas, and keeps answering after one is SIGKILLed', async () => {
    const { converters, proxy } = await system(2);
    const [victim] = converters;
    if (!victim) throw new Error('no converter');
    await useEveryReplica(proxy, converters);
    victim.kill('SIGKILL');
    await victim.exited;
    expect(await askMany(proxy, 20)).toEqual(expected(20));
    expect(
      await waitForLog(() => proxy.output(), 'warn', 'hop-failover', { where: (event) => logMatches(event, { from: 'ft', to: 'in', endpoint: `127.0.0.1:${victim.port}`, reason: 'connect failed: ECONNREFUSED' }) }),
    ).toBeDefined();
  });

  it('keeps answering when a replica is SIGSTOPped: the hop timeout catches it', async () => {
    const { converters, proxy } = await system(2, ['--hop-timeout', '300ms']);
    const [victim] = converters;
    if (!victim) throw new Error('no converter');
    await useEveryReplica(proxy, converters);
    victim.kill('SIGSTOP');
    stopped.push(victim);
    expect(await askMany(proxy, 12)).toEqual(expected(12));
    expect(
      await waitForLog(() => proxy.output(), 'warn', 'hop-failover', { where: (event) => logMatches(event, { from: 'ft', to: 'in', endpoint: `127.0.0.1:${victim.port}`, reason: `no answer from 127.0.0.1:${victim.port} within 300ms` }) }),
    ).toBeDefined();
  });

  it('gives a clear FAILURE when every replica is dead, then uses a restarted one', async () => {
    const { discovery, converters, proxy } = await system(2);
    expect(await ask(proxy, 'ft in 1')).toBe('12');
    for (const converter of converters) converter.kill('SIGKILL');
    await Promise.all(converters.map((converter) => converter.exited));
    expect(await ask(proxy, 'ft in 1')).toMatch(/^FAILURE (unavailable\. No live server converts ft <-> in\. \(UNAVAILABLE\)|no path\. .*\(NO_PATH\))$/);
    expect(
      await waitForLog(() => proxy.output(), 'warn', 'hop-failover', { where: (event) => logMatches(event, { from: 'ft', to: 'in', endpoint: /^127\.0\.0\.1:\d+$/, reason: 'connect failed: ECONNREFUSED' }) }),
    ).toBeDefined();
    await startConverter('ft:in', discovery);
    await waitFor(async () => (await ask(proxy, 'ft in 2')) === '24', { what: 'the restarted replica answering through the proxy', timeoutMs: 15_000 });
  });
});
