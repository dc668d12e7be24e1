import { describe, expect, it } from 'vitest';
import { type SystemOptions, converterSpecs, discoverySpecs, proxySpec } from '../src/system';
import { DEFAULT_DISCOVERY, DEFAULT_SYSTEM } from './system-options';

const base: SystemOptions = DEFAULT_SYSTEM;
const discovery = DEFAULT_DISCOVERY;
const httpPortOf = (args: string[]) => {
  const i = args.indexOf('--http-port');
  return i < 0 ? undefined : args[i + 1];
};

describe('the system plan and --http-port', () => {
  it('gives discovery 5580, the proxy 5581 and converter n the port 7000 + n', () => {
    const o = { ...base, httpPorts: { discovery: 5580, proxy: 5581, converter: 7001 } };
    expect(httpPortOf(discoverySpecs(o)[0]?.args(5555) ?? [])).toBe('5580');
    expect(httpPortOf(proxySpec(o, discovery).args(5556))).toBe('5581');
    expect(converterSpecs(o, discovery).map((spec) => httpPortOf(spec.args(spec.port)))).toEqual(Array.from({ length: 22 }, (_, i) => String(7001 + i)));
  });

  it('passes 0 (any free port) through, and no flag at all when the ports are off', () => {
    const zero = { ...base, httpPorts: { discovery: 40000, proxy: 0, converter: 0 } };
    expect(httpPortOf(proxySpec(zero, discovery).args(0))).toBe('0');
    expect(new Set(converterSpecs(zero, discovery).map((spec) => httpPortOf(spec.args(0))))).toEqual(new Set(['0']));
    expect(httpPortOf(discoverySpecs(base)[0]?.args(5555) ?? [])).toBeUndefined();
    expect(httpPortOf(proxySpec(base, discovery).args(5556))).toBeUndefined();
  });

  it('gives etcd discovery replicas their own status ports, two apart like their protocol ports', () => {
    const o = { ...base, store: 'etcd://127.0.0.1:2379', discoveryReplicas: 2, httpPorts: { discovery: 5580, proxy: 5581, converter: 7001 } };
    expect(discoverySpecs(o).map((spec) => httpPortOf(spec.args(spec.port)))).toEqual(['5580', '5582']);
  });
});
