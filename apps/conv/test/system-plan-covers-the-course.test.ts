import { describe, expect, it } from 'vitest';
import { restartDelayMs } from '../src/supervisor';
import { COURSE_PAIRS, type SystemOptions, converterSpecs, discoverySpec, proxySpec } from '../src/system';
import { DEFAULT_DISCOVERY, DEFAULT_SYSTEM } from './system-options';

const options: SystemOptions = DEFAULT_SYSTEM;
const discovery = DEFAULT_DISCOVERY;

describe('the system plan', () => {
  it('runs two replicas of each of the eleven course pairs, on distinct ports', () => {
    const converters = converterSpecs(options, discovery);
    // The course's eleven pairs (course.md), written out here rather than read from the code.
    expect(COURSE_PAIRS).toEqual([
      ['ft', 'in'], ['in', 'cm'], ['cm', 'm'], ['kg', 'g'], ['kg', 'lbs'], ['lbs', 'oz'],
      ['oz', '$'], ['lbs', 'b'], ['b', 'in'], ['b', 'gK'], ['$', 'y'],
    ]);
    expect(converters).toHaveLength(22);
    expect(new Set(converters.map((c) => c.port)).size).toBe(22);
    expect(converters.map((c) => c.port)).toEqual(Array.from({ length: 22 }, (_, i) => 6001 + i));
    expect(converters[0]?.args(6001)).toEqual([
      '6001', '--pair', 'ft:in', '--host', '127.0.0.1', '--discovery', '127.0.0.1:5555', '--log-level', 'info',
    ]);
  });

  it('lets every port be chosen by the system with port 0', () => {
    const converters = converterSpecs({ ...options, converterPort: 0 }, discovery);
    expect(converters).toHaveLength(22);
    expect(converters.every((c) => c.port === 0)).toBe(true);
  });

  it('points the proxy and the converters at discovery, which keeps its registry file', () => {
    expect(discoverySpec(options).args(5555)).toEqual(
      expect.arrayContaining(['5555', '--db', '/tmp/d.db', '--check-interval', '1s']),
    );
    expect(proxySpec(options, { host: '::1', port: 7000 }).args(5556)).toEqual(
      expect.arrayContaining(['5556', '--discovery', '[::1]:7000']),
    );
  });

  it('backs off restarts from a quarter second up to five seconds', () => {
    expect([0, 1, 2, 3, 4, 5, 10].map(restartDelayMs)).toEqual([250, 500, 1000, 2000, 4000, 5000, 5000]);
  });
});
