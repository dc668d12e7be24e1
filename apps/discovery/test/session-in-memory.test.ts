import { Registry } from '@conv/registry';
import { waitFor } from '@conv/testkit';
import { afterEach, describe, expect, it } from 'vitest';
import { HealthMonitor } from '../src/health-monitor';
import { silentLogger } from '@conv/server';
import { normalizePeerAddress } from '@conv/server';
import { isOwnAddress } from '../src/session';
import type { ProbeResult } from '../src/probe';
import { DiscoveryService } from '../src/session';

// The protocol logic without sockets. Probes are the one edge replaced: the test decides which
// endpoints answer, by "host:port".
function setup(options: { trust?: boolean } = {}) {
  const healthy = new Set<string>();
  const probed: string[] = [];
  const registry = Registry.open({ path: ':memory:', policy: { failuresToDown: 1, successesToUp: 2 } });
  const probe = (endpoint: { host: string; port: number }): Promise<ProbeResult> => {
    const key = `${endpoint.host}:${endpoint.port}`;
    probed.push(key);
    return Promise.resolve(healthy.has(key) ? { ok: true } : { ok: false, reason: 'refused' });
  };
  const monitor = new HealthMonitor({ registry, probe, intervalMs: 0, concurrency: 4, sweepEveryMs: 1000, log: silentLogger });
  const service = new DiscoveryService({ registry, checks: monitor, log: silentLogger, trustRegistrations: options.trust ?? false });
  const local = { address: '127.0.0.1' };
  const send = (line: string, peer = local): string => {
    const reply = service.handle(line, peer);
    // A local (SQLite) registry answers every request at once; only a shared one waits.
    if (typeof reply !== 'string') throw new Error(`expected an immediate reply to ${line}`);
    return reply;
  };
  const health = (host: string, port: number) => registry.find({ host, port })?.health;
  opened.push(async () => {
    await monitor.stop();
    registry.close();
  });
  return { healthy, probed, registry, monitor, send, health };
}

const opened: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const close of opened.splice(0)) await close();
});

describe('ADD and the admission probe', () => {
  it('stores a registration as pending and hands it out only after a successful probe', async () => {
    const { healthy, send, health } = setup();
    healthy.add('127.0.0.1:4001');
    expect(send('ADD ft in 127.0.0.1 4001')).toBe('SUCCESS\n');
    // Probed at once, not at the next interval (periodic checks are off here).
    await waitFor(() => health('127.0.0.1', 4001) === 'up', { what: 'admission probe' });
    expect(send('LOOKUP in ft')).toBe('127.0.0.1 4001\n');
  });

  it('keeps an endpoint that fails its probe pending, and says so in the UNKNOWN_PAIR detail', async () => {
    const { send, probed, health } = setup();
    expect(send('ADD ft in 127.0.0.1 4002')).toBe('SUCCESS\n');
    await waitFor(() => probed.includes('127.0.0.1:4002'), { what: 'probe' });
    expect(health('127.0.0.1', 4002)).toBe('pending');
    expect(send('LOOKUP ft in')).toBe(
      'FAILURE unknown pair. No healthy server converts ft <-> in; 1 registered: 1 pending a check, 0 down. (UNKNOWN_PAIR)\n',
    );
  });

  it('with trustRegistrations, is up at once without a probe', () => {
    const { send, probed } = setup({ trust: true });
    expect(send('ADD ft in 127.0.0.1 4003')).toBe('SUCCESS\n');
    expect(send('LOOKUP ft in')).toBe('127.0.0.1 4003\n');
    expect(probed).toEqual([]);
  });

  it('names the pair an endpoint is registered for when ADD conflicts', () => {
    const { send } = setup({ trust: true });
    send('ADD lbs b 127.0.0.1 1234');
    expect(send('ADD lbs b 127.0.0.1 1234')).toBe('SUCCESS\n');
    expect(send('ADD ft in 127.0.0.1 1234')).toBe(
      'FAILURE entry exists. 127.0.0.1 1234 is registered for b lbs; REMOVE it first. (ENTRY_EXISTS)\n',
    );
  });

  it('refuses a pair of a unit with itself', () => {
    const { send } = setup();
    expect(send('ADD ft ft 127.0.0.1 4004')).toMatch(/^FAILURE same unit\. .*\(SAME_UNIT\)\n$/);
  });
});

describe('LOOKUP and LOOKUP_MULTI', () => {
  it('alternates over the healthy endpoints of a pair, in registration order', () => {
    const { send } = setup({ trust: true });
    send('ADD ft in 127.0.0.1 4001');
    send('ADD in ft 127.0.0.2 4002');
    send('ADD ft in 127.0.0.3 4003');
    const answers = Array.from({ length: 6 }, () => send('LOOKUP ft in'));
    expect(answers).toEqual(['127.0.0.1 4001\n', '127.0.0.2 4002\n', '127.0.0.3 4003\n', '127.0.0.1 4001\n', '127.0.0.2 4002\n', '127.0.0.3 4003\n']);
  });

  it('finds the fewest-hops path and picks each hop round robin', () => {
    const { send } = setup({ trust: true });
    send('ADD lbs b 127.0.0.1 1234');
    send('ADD ban b 127.0.0.2 1233');
    send('ADD ban b 127.0.0.3 1235');
    expect(send('LOOKUP_MULTI ban lbs')).toBe('ban b 127.0.0.2 1233 0\nb lbs 127.0.0.1 1234 1\n');
    expect(send('PATH ban lbs')).toBe('ban b 127.0.0.3 1235 0\nb lbs 127.0.0.1 1234 1\n');
    expect(send('LOOKUP_MULTI b ban')).toBe('b ban 127.0.0.2 1233 1\n');
  });

  it('answers SAME_UNIT and NO_PATH', () => {
    const { send } = setup({ trust: true });
    send('ADD lbs b 127.0.0.1 1234');
    send('ADD ft in 127.0.0.2 1234');
    expect(send('LOOKUP_MULTI ft ft')).toMatch(/\(SAME_UNIT\)\n$/);
    expect(send('LOOKUP_MULTI ft lbs')).toBe('FAILURE no path. No chain of healthy servers converts ft -> lbs. (NO_PATH)\n');
    expect(send('LOOKUP_MULTI ft parsec')).toMatch(/\(NO_PATH\)\n$/);
  });

  it('routes around a pair whose only endpoint went down', () => {
    const { send, registry } = setup({ trust: true });
    send('ADD a b 127.0.0.1 1');
    send('ADD b c 127.0.0.1 2');
    expect(send('LOOKUP_MULTI a c')).toBe('a b 127.0.0.1 1 0\nb c 127.0.0.1 2 1\n');
    registry.markDown({ host: '127.0.0.1', port: 2 });
    expect(send('LOOKUP_MULTI a c')).toMatch(/\(NO_PATH\)\n$/);
  });
});

describe('REMOVE', () => {
  it('from the endpoint\'s own host removes at once', () => {
    const { send, registry } = setup({ trust: true });
    send('ADD ft in 127.0.0.1 4001');
    expect(send('REMOVE 127.0.0.1 4001')).toBe('SUCCESS\n');
    expect(registry.find({ host: '127.0.0.1', port: 4001 })).toBeUndefined();
    expect(send('REMOVE 127.0.0.1 4001')).toBe('FAILURE not registered. Nothing is registered at 127.0.0.1 4001. (NOT_REGISTERED)\n');
  });

  it('from a stranger marks down, probes, and a healthy endpoint comes back up', async () => {
    const { send, healthy, health } = setup({ trust: true });
    healthy.add('127.0.0.1:4001');
    send('ADD ft in 127.0.0.1 4001');
    expect(send('REMOVE 127.0.0.1 4001', { address: '127.0.0.2' })).toBe('SUCCESS\n');
    // Two successes are needed to come back (pass threshold 2): the confirmation probes run back to back.
    await waitFor(() => health('127.0.0.1', 4001) === 'up', { what: 'endpoint back up' });
    expect(send('LOOKUP ft in')).toBe('127.0.0.1 4001\n');
  });

  it('from a stranger about a dead endpoint leaves it down and no longer handed out', async () => {
    const { send, probed, health } = setup({ trust: true });
    send('ADD ft in 127.0.0.1 4001');
    send('REMOVE 127.0.0.1 4001', { address: '127.0.0.2' });
    await waitFor(() => probed.includes('127.0.0.1:4001'), { what: 'probe after report' });
    expect(health('127.0.0.1', 4001)).toBe('down');
    expect(send('LOOKUP ft in')).toMatch(/0 pending a check, 1 down\. \(UNKNOWN_PAIR\)\n$/);
  });
});

describe('other verbs', () => {
  it('answers PING, LIST and HELP', () => {
    const { send } = setup({ trust: true });
    send('ADD lbs b 127.0.0.1 1234');
    send('ADD ban b 127.0.0.2 1233');
    expect(send('ping')).toBe('PONG\n');
    expect(send('LIST')).toBe('b lbs 127.0.0.1 1234 up\nb ban 127.0.0.2 1233 up\nEND\n');
    const help = send('HELP').split('\n');
    expect(help.at(-2)).toBe('END');
    expect(help[0]).toMatch(/^conv discovery/);
  });

  it('answers malformed requests with one FAILURE line', () => {
    const { send } = setup();
    expect(send('REMOVE 127.0.0.1')).toBe('FAILURE wrong number of arguments. REMOVE takes 2 arguments (REMOVE <host> <port> or REMOVE <unit1> <unit2>), got 1. (BAD_ARITY)\n');
    expect(send('LOOKUP ft')).toMatch(/\(BAD_ARITY\)\n$/);
    expect(send('ADD ft in 300.1.1.1 4')).toMatch(/\(BAD_HOST\)\n$/);
  });
});

describe('peer addresses', () => {
  it('normalises IPv4-mapped addresses and recognises the endpoint\'s own host', () => {
    expect(normalizePeerAddress('::ffff:127.0.0.1')).toBe('127.0.0.1');
    expect(normalizePeerAddress('::1')).toBe('::1');
    expect(isOwnAddress('127.0.0.1', { host: '127.0.0.1', port: 1 })).toBe(true);
    expect(isOwnAddress('127.0.0.2', { host: '127.0.0.1', port: 1 })).toBe(false);
    expect(isOwnAddress('127.0.0.5', { host: 'localhost', port: 1 })).toBe(true);
    expect(isOwnAddress('::1', { host: 'localhost', port: 1 })).toBe(true);
    expect(isOwnAddress('127.0.0.1', { host: 'example.test', port: 1 })).toBe(false);
  });
});
