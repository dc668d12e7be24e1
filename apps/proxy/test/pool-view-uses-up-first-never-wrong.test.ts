import type { Health, WatchChange } from '@conv/protocol';
import { describe, expect, it } from 'vitest';
import { PoolView } from '../src/pool-view';

const at = (port: number) => ({ host: '127.0.0.1', port });
const entry = (port: number, health: Health, units: [string, string] = ['ft', 'in']) => ({ units, endpoint: at(port), health });
const change = (seq: number, kind: WatchChange['kind'], port: number, health: Health): WatchChange => ({ epoch: 'e', seq, kind, units: ['ft', 'in'], endpoint: at(port), health });
const always = () => true;

function picks(view: PoolView, count: number): number[] {
  return Array.from({ length: count }, () => view.pick('in', 'ft', always)?.port ?? 0);
}

describe('the proxy view of the pools', () => {
  it('hands out up endpoints in round robin, and drops a removed or wrong one at once', () => {
    const view = new PoolView();
    view.replace([entry(1, 'up'), entry(2, 'up'), entry(3, 'up')]);
    expect(picks(view, 6)).toEqual([1, 2, 3, 1, 2, 3]);
    view.apply(change(1, 'removed', 2, 'up'));
    view.apply(change(2, 'health', 3, 'wrong'));
    expect(picks(view, 3)).toEqual([1, 1, 1]);
    // A wrong endpoint is not even a last resort.
    expect(view.lastResort('ft', 'in', new Set(['127.0.0.1:1']), () => 0)).toBeUndefined();
  });

  it('uses a down or pending endpoint only as a last resort, up ones (failed recently) first', () => {
    const view = new PoolView();
    view.replace([entry(1, 'down'), entry(2, 'pending'), entry(3, 'up')]);
    expect(picks(view, 2)).toEqual([3, 3]);
    expect(view.pick('ft', 'in', (e) => e.port !== 3)).toBeUndefined();
    expect(view.lastResort('ft', 'in', new Set(), () => 0)?.port).toBe(3);
    expect(view.lastResort('ft', 'in', new Set(['127.0.0.1:3']), () => 0)?.port).toBe(2);
    expect(view.lastResort('ft', 'in', new Set(['127.0.0.1:3', '127.0.0.1:2']), () => 0)?.port).toBe(1);
  });

  it('after a discovery restart, tries again only what it saw up before, never a second newcomer', () => {
    const view = new PoolView();
    view.replace([entry(1, 'up'), entry(2, 'up'), entry(3, 'up')]);
    view.apply(change(1, 'removed', 3, 'up'));
    view.apply(change(2, 'added', 3, 'pending'));
    // Discovery restarted: everything it restored is pending until probed; 4 is a newcomer.
    view.replace([entry(1, 'pending'), entry(2, 'pending'), entry(3, 'pending'), entry(4, 'pending')]);
    const provenOnly = { provenOnly: true };
    expect(view.lastResort('ft', 'in', new Set(), () => 0)?.port).toBe(1);
    expect(view.lastResort('ft', 'in', new Set(['127.0.0.1:1']), () => 0, provenOnly)?.port).toBe(2);
    // 3 was removed and registered afresh since it was last up; 4 never was: neither is proven.
    expect(view.lastResort('ft', 'in', new Set(['127.0.0.1:1', '127.0.0.1:2']), () => 0, provenOnly)).toBeUndefined();
    expect(view.lastResort('ft', 'in', new Set(['127.0.0.1:1', '127.0.0.1:2']), () => 0)?.port).toBe(3);
    // A wrong answer un-proves; a snapshot without an endpoint forgets it.
    view.apply(change(3, 'health', 2, 'wrong'));
    view.apply(change(4, 'health', 2, 'pending'));
    expect(view.lastResort('ft', 'in', new Set(['127.0.0.1:1']), () => 0, provenOnly)).toBeUndefined();
    view.replace([entry(2, 'pending')]);
    view.replace([entry(1, 'pending'), entry(2, 'pending')]);
    expect(view.lastResort('ft', 'in', new Set(), () => 0, provenOnly)).toBeUndefined();
  });

  it('finds paths over pairs with an up endpoint, and a joining replica takes its turn', () => {
    const view = new PoolView();
    view.replace([entry(1, 'up'), entry(5, 'up', ['cm', 'in'])]);
    expect(view.path('ft', 'cm')).toEqual({ ok: true, hops: [{ from: 'ft', to: 'in' }, { from: 'in', to: 'cm' }] });
    view.apply(change(1, 'added', 2, 'pending'));
    expect(picks(view, 2)).toEqual([1, 1]);
    view.apply(change(2, 'health', 2, 'up'));
    expect(picks(view, 4)).toEqual([2, 1, 2, 1]);
    view.apply(change(3, 'removed', 5, 'up'));
    expect(view.path('ft', 'cm').ok).toBe(false);
  });

  it('is settled by a snapshot, or by news that no watch is coming', async () => {
    const view = new PoolView();
    expect(view.synced).toBe(false);
    view.unavailable();
    await view.settled;
    view.replace([]);
    expect(view.synced).toBe(true);
    view.clear();
    expect(view.synced).toBe(false);
  });
});
