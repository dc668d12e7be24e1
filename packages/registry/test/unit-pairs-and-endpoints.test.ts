import { describe, expect, it } from 'vitest';
import { formatAddress } from '@conv/protocol';
import { endpointOf, isUnitPair, RegistryError, unitPair } from '../src/index';

const endpointKey = (endpoint: { host: string; port: number }) => formatAddress(endpointOf(endpoint.host, endpoint.port));

describe('unitPair', () => {
  it('is order-insensitive and canonical (sorted)', () => {
    expect(unitPair('in', 'ft')).toEqual(['ft', 'in']);
    expect(unitPair('ft', 'in')).toEqual(unitPair('in', 'ft'));
    expect(unitPair('$', 'y')).toEqual(['$', 'y']);
    expect(isUnitPair(unitPair('lbs', 'kg'))).toBe(true);
    expect(isUnitPair(['lbs', 'kg'])).toBe(false);
  });

  it('refuses empty units, whitespace and a unit paired with itself', () => {
    for (const [a, b] of [['', 'ft'], ['ft', 'i n'], ['kg', 'kg'], ['a\nb', 'c'], ['x'.repeat(33), 'y']] as const) {
      expect(() => unitPair(a, b)).toThrow(RegistryError);
      try {
        unitPair(a, b);
      } catch (error) {
        expect((error as RegistryError).code).toBe('INVALID_PAIR');
      }
    }
  });

  it('says what it expected and what it got', () => {
    expect(() => unitPair('kg', 'kg')).toThrowErrorMatchingInlineSnapshot(`[RegistryError: Expected two different units, received "kg" twice.]`);
    expect(() => unitPair('ft', 'i n')).toThrowErrorMatchingInlineSnapshot(`[RegistryError: Expected two units of 1..32 characters without whitespace, received "ft" and "i n".]`);
  });
});

describe('endpoints', () => {
  it('keys IPv4, names and IPv6 the way they are written in URLs', () => {
    expect(endpointKey({ host: '127.0.0.1', port: 4000 })).toBe('127.0.0.1:4000');
    expect(endpointKey({ host: '::1', port: 4000 })).toBe('[::1]:4000');
    expect(endpointKey({ host: 'LocalHost', port: 80 })).toBe('localhost:80');
  });

  it('gives one key to every spelling of one address', () => {
    expect(endpointKey({ host: '0:0:0:0:0:0:0:1', port: 1 })).toBe('[::1]:1');
    expect(endpointKey({ host: '[::1]', port: 1 })).toBe('[::1]:1');
    expect(endpointOf('[0:0::1]', 9)).toEqual({ host: '::1', port: 9 });
  });

  it('refuses ports outside 1..65535, empty hosts, whitespace and broken IPv6', () => {
    for (const [host, port] of [['127.0.0.1', 0], ['127.0.0.1', 65_536], ['127.0.0.1', 1.5], ['', 80], ['127.0.0.1 x', 80], [':::1', 80]] as const) {
      expect(() => endpointOf(host, port), `${host}:${port}`).toThrow(expect.objectContaining({ code: 'INVALID_ENDPOINT' }));
    }
    expect(() => endpointOf('127.0.0.1', 0)).toThrowErrorMatchingInlineSnapshot(`[RegistryError: Expected an integer port 1..65535, received {"host":"127.0.0.1","port":0}.]`);
  });
});
