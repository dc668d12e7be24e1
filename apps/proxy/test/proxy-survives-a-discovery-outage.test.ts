import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stopAll, waitFor } from '@conv/testkit';
import { afterEach, describe, expect, it } from 'vitest';
import { ask, startConverter, startDiscovery, startProxy, waitUp } from './system';

const dirs: string[] = [];
afterEach(async () => {
  await stopAll();
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

describe('a discovery outage', () => {
  it('is served from cached paths, and the proxy reconnects by itself when discovery returns', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'proxy-outage-'));
    dirs.push(dir);
    const db = join(dir, 'registry.db');
    const discovery = await startDiscovery({ db });
    for (const pair of ['ft:in', 'ft:in', 'in:cm']) await startConverter(pair, discovery);
    await waitUp(discovery, 3);
    const proxy = await startProxy(discovery, ['--path-ttl', '200ms']);
    expect(await ask(proxy, 'ft cm 1')).toBe('30.48');
    expect(await ask(proxy, 'in ft 24')).toBe('2');
    // Both paths were learned by now at the latest.
    const learned = Date.now();

    discovery.kill('SIGKILL');
    await discovery.exited;
    await waitFor(() => proxy.output().includes('discovery-unreachable'), { what: 'the proxy to notice discovery is gone' });
    // Past the path TTL (200 ms; the condition is the clock itself): the cached paths are stale,
    // but still good while discovery is away.
    await waitFor(() => Date.now() - learned > 2 * 200, { what: 'the path TTL to pass' });
    for (let i = 1; i <= 10; i++) {
      expect(await ask(proxy, `ft cm ${i}`)).toBe(String(Math.round(i * 30.48 * 100) / 100));
      expect(await ask(proxy, 'in ft 24')).toBe('2');
    }
    expect(proxy.output().match(/discovery-unreachable/g)).toHaveLength(1);
    // A path never asked for is found in the last view the watch gave: stale is better than nothing.
    expect(await ask(proxy, 'cm ft 30.48')).toBe('1');

    await startDiscovery({ db, port: discovery.port });
    await waitFor(() => proxy.output().includes('discovery-back'), { what: 'the proxy to reconnect to discovery', timeoutMs: 10_000 });
    await waitFor(async () => (await ask(proxy, 'cm ft 30.48')) === '1', { what: 'a new path through the restarted discovery', timeoutMs: 10_000 });
  });
});
