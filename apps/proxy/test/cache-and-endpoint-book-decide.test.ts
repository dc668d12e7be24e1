import { formatAddress } from '@conv/protocol';
import { describe, expect, it } from 'vitest';
import { EndpointBook, pairKey } from '../src/endpoint-book';
import { Outliers } from '../src/outliers';
import { PathCache, decide } from '../src/path-cache';

const hops = [['ft', 'in']] as const;
const ttls = { pathTtlMs: 2000, staleTtlMs: 60_000 };

describe('path cache decisions', () => {
  it('misses when nothing is cached', () => {
    expect(decide(undefined, 0, ttls)).toEqual({ kind: 'miss' });
  });

  it('is fresh before the path TTL, stale after it, and a miss after the stale TTL', () => {
    const entry = { hops, fetchedAt: 1000 };
    expect(decide(entry, 1000, ttls).kind).toBe('fresh');
    expect(decide(entry, 2999, ttls).kind).toBe('fresh');
    expect(decide(entry, 3000, ttls)).toEqual({ kind: 'stale', hops, ageMs: 2000 });
    expect(decide(entry, 60_999, ttls).kind).toBe('stale');
    expect(decide(entry, 61_000, ttls).kind).toBe('miss');
  });

  it('keeps directions apart and forgets entries too old to use', () => {
    const cache = new PathCache(ttls);
    cache.store('ft', 'in', hops, 0);
    expect(cache.lookup('in', 'ft', 0).kind).toBe('miss');
    expect(cache.lookup('ft', 'in', 0).kind).toBe('fresh');
    expect(cache.lookup('ft', 'in', 60_000).kind).toBe('miss');
    expect(cache.size).toBe(0);
  });
});

describe('endpoint book', () => {
  const a = { host: '127.0.0.1', port: 4001 };
  const b = { host: '127.0.0.1', port: 4002 };
  const c = { host: '::1', port: 4003 };

  it('treats a pair as unordered', () => {
    expect(pairKey('ft', 'in')).toBe(pairKey('in', 'ft'));
  });

  it('hands out the endpoints of a pair in round robin, learning each once', () => {
    const book = new EndpointBook(new Outliers({ baseMs: 3000, maxMs: 3000 }));
    book.learn(['ft', 'in'], a);
    book.learn(['in', 'ft'], b);
    book.learn(['ft', 'in'], a);
    expect([0, 1, 2, 3].map(() => book.pick('ft', 'in', 0)?.port)).toEqual([4001, 4002, 4001, 4002]);
  });

  it('skips endpoints tried for this request and ejected endpoints', () => {
    const book = new EndpointBook(new Outliers({ baseMs: 3000, maxMs: 3000 }));
    for (const e of [a, b, c]) book.learn(['ft', 'in'], e);
    expect(book.outliers.eject(b, 100).fresh).toBe(true);
    expect(book.outliers.eject(b, 200).fresh).toBe(false);
    expect(book.pick('ft', 'in', 300, new Set([formatAddress(a)]))).toEqual(c);
    expect(book.pick('ft', 'in', 300, new Set([formatAddress(a), formatAddress(c)]))).toBeUndefined();
    expect(book.pick('ft', 'in', 3200, new Set([formatAddress(a), formatAddress(c)]))).toEqual(b);
  });

  it('forgets an endpoint for every pair', () => {
    const book = new EndpointBook(new Outliers({ baseMs: 3000, maxMs: 3000 }));
    book.learn(['ft', 'in'], a);
    book.learn(['in', 'cm'], a);
    book.learn(['in', 'cm'], b);
    book.forget(a);
    expect(book.known('ft', 'in')).toEqual([]);
    expect(book.known('cm', 'in')).toEqual([b]);
  });
});
