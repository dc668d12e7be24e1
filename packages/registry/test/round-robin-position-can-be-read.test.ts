import { afterEach, describe, expect, it } from 'vitest';
import { Registry, unitPair } from '../src/index';
import { ep } from './helpers';

const open: Registry[] = [];
afterEach(() => {
  for (const registry of open.splice(0)) registry.close();
});

const FT_IN = unitPair('ft', 'in');
const A = ep('127.0.0.1', 4001);
const B = ep('127.0.0.1', 4002);
const C = ep('127.0.0.1', 4003);

function withUp(...endpoints: { host: string; port: number }[]): Registry {
  const registry = Registry.open({ path: ':memory:' });
  open.push(registry);
  for (const e of endpoints) registry.add(FT_IN, e, { health: 'up' });
  return registry;
}

describe('peekNext: the round-robin position, read without taking a turn', () => {
  it('names the endpoint next() returns, and reading it twice moves nothing', () => {
    const registry = withUp(A, B, C);
    for (let i = 0; i < 7; i++) {
      const peeked = registry.peekNext(FT_IN);
      expect(registry.peekNext(['in', 'ft'])).toEqual(peeked);
      expect(registry.next(FT_IN)).toEqual(peeked);
    }
  });

  it('does not count a peek as served', () => {
    const registry = withUp(A, B);
    registry.peekNext(FT_IN);
    registry.peekNext(FT_IN);
    expect(registry.find(A)?.served).toBe(0);
    registry.next(FT_IN);
    expect(registry.find(A)?.served).toBe(1);
  });

  it('skips endpoints that are not up, and is undefined when none is', () => {
    const registry = withUp(A, B, C);
    registry.markDown(A);
    expect(registry.peekNext(FT_IN)).toEqual(B);
    registry.markDown(B);
    registry.markDown(C);
    expect(registry.peekNext(FT_IN)).toBeUndefined();
    expect(registry.peekNext(unitPair('kg', 'g'))).toBeUndefined();
  });

  it('follows the cursor past the last used endpoint', () => {
    const registry = withUp(A, B, C);
    registry.next(FT_IN);
    expect(registry.peekNext(FT_IN)).toEqual(B);
    registry.remove(B);
    expect(registry.peekNext(FT_IN)).toEqual(C);
  });
});
