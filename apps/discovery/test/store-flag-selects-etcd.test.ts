import { describe, expect, it } from 'vitest';
import { readConfig as parseCli } from '../src/config';
import { usageError } from './helpers';

function parse(argv: string[]) {
  const outcome = parseCli(argv);
  if (outcome.kind !== 'run') throw new Error('expected a config');
  return outcome.config;
}

describe('--store etcd://...', () => {
  it('selects etcd with one member or several, and a lease of 15 s unless told', () => {
    expect(parse(['--store', 'etcd://127.0.0.1:2379'])).toMatchObject({ store: { kind: 'etcd', endpoints: ['127.0.0.1:2379'] }, leaseTtlMs: 15_000 });
    expect(parse(['--store', 'etcd://127.0.0.1:2379,127.0.0.2:22379,[::1]:2379', '--lease-ttl', '4s']).store).toEqual({
      kind: 'etcd',
      endpoints: ['127.0.0.1:2379', '127.0.0.2:22379', '[::1]:2379'],
    });
  });

  it('takes the deadline of one etcd call as --etcd-timeout, 2 s unless told, in the duration syntax of the other flags', () => {
    expect(parse(['--store', 'etcd://127.0.0.1:2379']).etcdTimeoutMs).toBe(2_000);
    expect(parse(['--store', 'etcd://127.0.0.1:2379', '--etcd-timeout', '750ms']).etcdTimeoutMs).toBe(750);
    expect(parse(['--store', 'etcd://127.0.0.1:2379', '--etcd-timeout', '5s']).etcdTimeoutMs).toBe(5_000);
    expect(parse(['--store', 'etcd://127.0.0.1:2379', '--etcd-timeout', '3000']).etcdTimeoutMs).toBe(3_000);
    expect(usageError(['--etcd-timeout', '0'])).toMatch(/^--etcd-timeout must be a duration such as 500ms, 2s or 1m, above 0, got "0"$/);
    expect(usageError(['--etcd-timeout', 'soon'])).toMatch(/^--etcd-timeout must be a duration/);
  });

  it('keeps SQLite the default', () => {
    expect(parse([]).store).toBeUndefined();
  });

  it('refuses --store together with --db, a store that is not etcd, and leases under a second', () => {
    expect(usageError(['--store', 'etcd://127.0.0.1:2379', '--db', 'x.db'])).toMatch(/^--store and --db are exclusive/);
    expect(usageError(['--store', 'redis://127.0.0.1:6379'])).toMatch(/^--store must be etcd:\/\/<host>:<port>/);
    expect(usageError(['--store', 'etcd://127.0.0.1:99999'])).toMatch(/^--store must be/);
    expect(usageError(['--store', 'etcd://'])).toMatch(/^--store must be/);
    expect(usageError(['--lease-ttl', '500ms'])).toMatch(/^--lease-ttl must be a duration .*, at least 1s, got "500ms"$/);
  });
});
