import { afterEach, describe, expect, it } from 'vitest';
import { ChangeFeed, type EndpointRegistry, MemorySharedRegistryStore, Registry, type RegistryChange, SharedRegistry, unitPair } from '../src/index';
import { join } from 'node:path';
import { ep, until, useTempDir } from './helpers';

const FT_IN = unitPair('ft', 'in');

const brief = (c: RegistryChange) => `${c.seq} ${c.kind} ${c.pair.join('/')} ${c.endpoint.port} ${c.health}`;

describe('the change feed', () => {
  const tempDir = useTempDir();
  const open: EndpointRegistry[] = [];
  afterEach(() => {
    for (const registry of open.splice(0)) registry.close();
  });

  it('numbers every change to a local registry in order: add, health, remove', async () => {
    const registry = Registry.open({ path: ':memory:' });
    open.push(registry);
    const heard: RegistryChange[] = [];
    const { start, stop } = registry.watch((change) => heard.push(change));
    expect(start).toMatchObject({ kind: 'snapshot', seq: 0, registrations: [] });
    registry.add(FT_IN, ep('127.0.0.1', 4001));
    registry.add(FT_IN, ep('127.0.0.1', 4001)); // a refresh changes nothing
    registry.recordProbe(ep('127.0.0.1', 4001), true);
    registry.markDown(ep('127.0.0.1', 4001));
    registry.markDown(ep('127.0.0.1', 4001)); // already down: no change
    registry.remove(ep('127.0.0.1', 4001));
    expect(heard.map(brief)).toEqual(['1 added ft/in 4001 pending', '2 health ft/in 4001 up', '3 health ft/in 4001 down', '4 removed ft/in 4001 down']);
    stop();
    registry.add(FT_IN, ep('127.0.0.1', 4002));
    expect(heard).toHaveLength(4);
    await Promise.resolve();
  });

  it('resumes a watcher from its position with exactly the changes it missed, else a snapshot', () => {
    const registry = Registry.open({ path: ':memory:' });
    open.push(registry);
    registry.add(FT_IN, ep('127.0.0.1', 4001), { health: 'up' });
    const first = registry.watch(() => undefined);
    first.stop();
    const position = { epoch: first.start.epoch, seq: first.start.seq };
    registry.add(FT_IN, ep('127.0.0.1', 4002), { health: 'up' });
    registry.remove(ep('127.0.0.1', 4001));
    const resumed = registry.watch(() => undefined, position);
    resumed.stop();
    expect(resumed.start.kind).toBe('resumed');
    if (resumed.start.kind === 'resumed') expect(resumed.start.changes.map(brief)).toEqual(['2 added ft/in 4002 up', '3 removed ft/in 4001 up']);
    const elsewhere = registry.watch(() => undefined, { epoch: 'another-process', seq: 1 });
    elsewhere.stop();
    expect(elsewhere.start).toMatchObject({ kind: 'snapshot', seq: 3 });
    if (elsewhere.start.kind === 'snapshot') expect(elsewhere.start.registrations.map((r) => r.endpoint.port)).toEqual([4002]);
    const future = registry.watch(() => undefined, { epoch: position.epoch, seq: 99 });
    future.stop();
    expect(future.start.kind).toBe('snapshot');
  });

  it('starts a reopened registry at change 0: what it restored is in the first snapshot, not in the feed', () => {
    const file = join(tempDir(), 'registry.sqlite');
    const first = Registry.open({ path: file });
    first.add(FT_IN, ep('127.0.0.1', 4001));
    first.add(FT_IN, ep('127.0.0.1', 4002));
    first.close();
    const registry = Registry.open({ path: file });
    open.push(registry);
    const heard: RegistryChange[] = [];
    const { start, stop } = registry.watch((change) => heard.push(change));
    expect(start).toMatchObject({ kind: 'snapshot', seq: 0 });
    if (start.kind === 'snapshot') expect(start.registrations.map((r) => `${r.endpoint.port} ${r.health}`)).toEqual(['4001 pending', '4002 pending']);
    registry.recordProbe(ep('127.0.0.1', 4001), true);
    stop();
    expect(heard.map(brief)).toEqual(['1 health ft/in 4001 up']);
  });

  it('keeps a bounded history: a watcher further behind gets a snapshot', () => {
    const feed = new ChangeFeed({ epoch: 'e', history: 3 });
    for (let port = 1; port <= 10; port++) feed.record('added', FT_IN, ep('127.0.0.1', port), 'pending');
    expect(feed.since('e', 10)).toEqual([]);
    expect(feed.since('e', 7)?.map((c) => c.seq)).toEqual([8, 9, 10]);
    expect(feed.since('e', 2)).toBeUndefined();
    expect(feed.since('x', 9)).toBeUndefined();
    expect(new ChangeFeed().epoch).not.toBe(new ChangeFeed().epoch);
  });

  it('tells watchers of a shared registry what another replica changed', async () => {
    const store = new MemorySharedRegistryStore();
    const a = await SharedRegistry.open({ store });
    const b = await SharedRegistry.open({ store: store.peer() });
    open.push(a, b);
    const heard: RegistryChange[] = [];
    b.watch((change) => heard.push(change));
    await a.add(FT_IN, ep('127.0.0.1', 4001), { health: 'up' });
    await until(() => heard.length === 1, 'the ADD on b');
    b.recordProbe(ep('127.0.0.1', 4001), true);
    await a.remove(ep('127.0.0.1', 4001));
    await until(() => heard.length === 3, 'the REMOVE on b');
    expect(heard.map(brief)).toEqual(['1 added ft/in 4001 pending', '2 health ft/in 4001 up', '3 removed ft/in 4001 up']);
    expect(a.changes.epoch).not.toBe(b.changes.epoch);
  });
});
