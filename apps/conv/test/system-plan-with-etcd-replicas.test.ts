import { describe, expect, it } from 'vitest';
import { ServerError, readCommandLine } from '@conv/server';
import { type SystemOptions, converterSpecs, discoveryHttpPort, discoverySpecs, proxySpec } from '../src/system';
import { upCommand } from '../src/up-command';
import { DEFAULT_SYSTEM } from './system-options';

/** `conv up <argv>` read as the bin reads it: the config, or the usage error's message. */
function readUp(argv: string[]): unknown {
  const line = readCommandLine(upCommand.spec, argv);
  if (line.kind !== 'run') throw new Error('expected a run');
  try {
    return upCommand.read(line, {});
  } catch (error) {
    if (error instanceof ServerError) return error.message;
    throw error;
  }
}

const options: SystemOptions = {
  ...DEFAULT_SYSTEM,
  store: 'etcd://127.0.0.1:2379',
  discoveryReplicas: 2,
};
const replicas = [
  { host: '127.0.0.1', port: 5555 },
  { host: '127.0.0.1', port: 5557 },
];

describe('conv up --store etcd://... --discovery-replicas 2', () => {
  it('starts two discovery replicas on 5555 and 5557 sharing the etcd registry, no file', () => {
    const specs = discoverySpecs(options);
    expect(specs.map((s) => [s.name, s.port])).toEqual([['discovery', 5555], ['discovery #2', 5557]]);
    for (const spec of specs) {
      expect(spec.args(spec.port)).toEqual(expect.arrayContaining(['--store', 'etcd://127.0.0.1:2379']));
      expect(spec.args(spec.port)).not.toContain('--db');
    }
  });

  it("gives each replica its own status page, two ports on like its protocol port, as the banner lists them", () => {
    const withPages = { ...options, httpPorts: { discovery: 5580, proxy: 5581, converter: 7001 } };
    expect([0, 1].map((replica) => discoveryHttpPort(withPages, replica))).toEqual([5580, 5582]);
    expect(discoverySpecs(withPages).map((spec) => spec.args(spec.port).slice(-2))).toEqual([['--http-port', '5580'], ['--http-port', '5582']]);
    expect(discoveryHttpPort(options, 1)).toBeUndefined();
  });

  it('gives the converters and the proxy both addresses', () => {
    expect(converterSpecs(options, replicas)[0]?.args(6001)).toEqual(expect.arrayContaining(['--discovery', '127.0.0.1:5555,127.0.0.1:5557']));
    expect(proxySpec(options, replicas).args(5556)).toEqual(expect.arrayContaining(['--discovery', '127.0.0.1:5555,127.0.0.1:5557']));
  });

  it('keeps one discovery with its file without --store, and refuses replicas without it', () => {
    expect(discoverySpecs({ ...options, store: undefined }).map((s) => s.name)).toEqual(['discovery']);
    expect(readUp(['--data-dir', '/tmp/x', '--discovery-replicas', '2'])).toMatch(/^--discovery-replicas needs --store etcd:\/\/\.\.\. above 1/);
    expect(readUp(['--data-dir', '/tmp/x', '--store', 'etcd://127.0.0.1:2379', '--discovery-replicas', '2'])).toMatchObject({ discoveryReplicas: 2 });
    expect(readUp(['--data-dir', '/tmp/x', '--store', 'http://127.0.0.1:2379'])).toMatch(/^--store must be etcd:/);
  });
});
