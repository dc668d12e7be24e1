import { describe, expect, it } from 'vitest';
import { DEFAULTS, readConfig as parseCli } from '../src/config';
import { usageError } from './helpers';

function config(argv: string[]) {
  const outcome = parseCli(argv);
  if (outcome.kind !== 'run') throw new Error('expected a config');
  return outcome.config;
}

describe('the command line', () => {
  it('takes the seed form `discovery 5555` and falls back to the defaults', () => {
    expect(config(['5555'])).toMatchObject({ port: 5555, host: '127.0.0.1', db: 'discovery.db', checkIntervalMs: 2000 });
    expect(config([])).toEqual({ ...DEFAULTS });
    expect(Object.isFrozen(config([]))).toBe(true);
  });

  it('reads every flag, durations with or without a unit', () => {
    expect(
      config([
        '--port', '0', '--host', '::1', '--db', ':memory:', '--check-interval', '100ms', '--check-timeout', '1s',
        '--check-concurrency', '8', '--max-probe-rate', '0', '--probe-thread', '--fail-threshold', '3', '--pass-threshold', '1', '--down-grace', '1m',
        '--pending-grace', '1500', '--trust-registrations', '--greeting', '--max-connections', '2',
        '--idle-timeout', '0', '--close-grace', '1s', '--shutdown-timeout', '5s', '--max-line-bytes', '128', '--log-level', 'debug', '--lease-ttl', '3s',
        '--etcd-timeout', '1.5s', '--max-pending-per-source', '10', '--max-pending', '20', '--admission-rate', '0',
        '--session-write-wait', '0', '--token', 'sekrit-token', '--http-port', '0',
      ]),
    ).toEqual({
      port: 0, host: '::1', db: ':memory:', checkIntervalMs: 100, checkTimeoutMs: 1000, checkConcurrency: 8,
      maxProbeRate: 0, probeThread: true, failThreshold: 3, passThreshold: 1, downGraceMs: 60_000, pendingGraceMs: 1500, trustRegistrations: true,
      greeting: true, maxConnections: 2, idleTimeoutMs: 0, closeGraceMs: 1000, shutdownTimeoutMs: 5000, maxLineBytes: 128, logLevel: 'debug', leaseTtlMs: 3000,
      etcdTimeoutMs: 1500, sessionWriteWaitMs: 0, classroom: false, maxPendingPerSource: 10, maxPending: 20, admissionRate: 0, token: 'sekrit-token', httpPort: 0,
    });
    // --store excludes --db, so it is read on its own.
    expect(config(['--store', 'etcd://127.0.0.1:2379,[::1]:2379']).store).toEqual({ kind: 'etcd', endpoints: ['127.0.0.1:2379', '[::1]:2379'] });
  });

  it('reads --classroom as trusted registrations, no checks, a registry in memory, and refuses what contradicts it', () => {
    expect(config(['5555', '--classroom'])).toMatchObject({ port: 5555, classroom: true, trustRegistrations: true, checkIntervalMs: 0, db: ':memory:' });
    expect(config(['--classroom', '--check-interval', '0s', '--trust-registrations'])).toMatchObject({ checkIntervalMs: 0, trustRegistrations: true });
    expect(usageError(['--classroom', '--db', 'x.db'])).toBe('--classroom keeps the registry in memory; --db cannot be given with it');
    expect(usageError(['--classroom', '--no-trust-registrations'])).toMatch(/^--classroom trusts registrations/);
    expect(usageError(['--classroom', '--check-interval', '2s'])).toMatch(/^--classroom turns health checks off/);
  });

  it('refuses bad flags with one line naming the flag and what it expects', () => {
    expect(usageError(['--port', 'x'])).toBe('--port must be a whole number from 0 to 65535, got "x"');
    expect(usageError(['70000'])).toBe('--port must be a whole number from 0 to 65535, got "70000"');
    expect(usageError(['--check-interval', 'soon'])).toBe(
      '--check-interval must be a duration such as 500ms, 2s or 1m (0 turns it off), got "soon"',
    );
    expect(usageError(['--check-timeout', '0'])).toMatch(/^--check-timeout must be a duration .* above 0/);
    expect(usageError(['--log-level', 'loud'])).toBe('--log-level must be one of error, warn, info, debug, got "loud"');
    expect(usageError(['--bogus'])).toBe('unknown option --bogus; see --help');
    expect(usageError(['1', '2'])).toMatch(/^unexpected argument "2"/);
    expect(usageError(['5555', '--port', '5556'])).toMatch(/^--port was given twice/);
    for (const message of [usageError(['--fail-threshold', '0']), usageError(['--max-line-bytes', '1e9'])]) {
      expect(message).not.toContain('\n');
    }
  });

  it('prints help naming every flag', () => {
    const outcome = parseCli(['--help']);
    expect(outcome.kind).toBe('print');
    const text = outcome.kind === 'print' ? outcome.text : '';
    // Written out here, not read from the code's option table: a flag added there without help, or
    // help naming a flag that is gone, fails this.
    const flags = ['--port', '--host', '--db', '--check-interval', '--check-timeout', '--check-concurrency', '--max-probe-rate', '--probe-thread',
      '--fail-threshold', '--pass-threshold', '--down-grace', '--pending-grace', '--trust-registrations', '--classroom', '--token', '--greeting',
      '--max-connections', '--idle-timeout', '--close-grace', '--shutdown-timeout', '--max-line-bytes', '--log-level', '--store',
      '--lease-ttl', '--etcd-timeout', '--session-write-wait', '--http-port', '--max-pending-per-source', '--max-pending', '--admission-rate', '--help', '--version'];
    expect([...new Set(text.match(/--[a-z][a-z-]*/g))].sort()).toEqual([...flags].sort());
  });
});
