import { APP, type ServerProcess, loggedHttpUrl, logMatches, startServer, waitFor, waitForLog } from '@conv/testkit';
import { StatusReportSchema } from '@conv/protocol';
import { describe, expect, it } from 'vitest';
import { FAST_CHECKS, ask, askOnce, list, openSession, startDiscovery, tempDir, useFakeConverters } from './helpers';

const fake = useFakeConverters();
const dir = tempDir();

/** Routine probes off: whatever finds a dead converter here is its lease (admission probes still run). */
const NO_ROUTINE_PROBES = ['--check-interval', '0', '--check-timeout', '500ms'] as const;
/** A short lease for tests: one second, renewed four times a second. */
const SHORT_LEASE = ['--lease', '1s', '--heartbeat-interval', '250ms'] as const;

const converter = (discovery: ServerProcess) =>
  startServer(APP.converter, ['0', '--pair', 'ft:in', '--discovery', `127.0.0.1:${discovery.port}`, ...SHORT_LEASE]);

/** The LIST line of the endpoint on `port`, without its units and address: `up lease=1s`. */
async function listed(discovery: ServerProcess, port: number): Promise<string | undefined> {
  const line = (await list(discovery.port)).find((l) => l.split(' ')[3] === String(port));
  return line?.split(' ').slice(4).join(' ');
}

/** Until `rounds` LOOKUPs in a row hand out only `port`: the other endpoint has left the rotation. */
async function onlyHandedOut(discovery: ServerProcess, port: number, what: string): Promise<void> {
  let inARow = 0;
  await waitFor(
    async () => {
      const [reply] = await askOnce(discovery.port, 'LOOKUP ft in');
      inARow = reply === `127.0.0.1 ${port}` ? inARow + 1 : 0;
      return inARow >= 4;
    },
    { what, timeoutMs: 20_000 },
  );
}

describe('leases: a heartbeating converter that stops is found by its silence, not by probes', () => {
  it('lists lease in FEATURES and takes ADD ... lease=, shown in LIST', { timeout: 60_000 }, async () => {
    const discovery = await startDiscovery(['--db', ':memory:', ...NO_ROUTINE_PROBES]);
    expect((await askOnce(discovery.port, 'FEATURES'))[0]?.split(' ')).toContain('lease');
    const a = await fake(['ft', 'in'], { factor: 12 });
    expect(await askOnce(discovery.port, `ADD ft in 127.0.0.1 ${a.port} lease=2s`)).toEqual(['SUCCESS']);
    await waitFor(async () => (await listed(discovery, a.port)) === 'up lease=2s', { what: 'the leased registration up, its lease in LIST' });
    expect(await askOnce(discovery.port, `ADD ft in 127.0.0.1 ${a.port} lease=soon`)).toEqual([expect.stringMatching(/^FAILURE bad lease\. .*\(BAD_LEASE\)$/)]);
  });

  for (const signal of ['SIGKILL', 'SIGSTOP'] as const) {
    it(`leaves LOOKUP within one lease when ${signal}ed, while probes are off; a watcher hears it go down`, { timeout: 60_000 }, async () => {
      const discovery = await startDiscovery(['--db', ':memory:', ...NO_ROUTINE_PROBES]);
      const [a, b] = [await converter(discovery), await converter(discovery)];
      for (const c of [a, b]) await waitFor(async () => (await listed(discovery, c.port)) === 'up lease=1s', { what: `converter ${c.port} up with a lease`, timeoutMs: 20_000 });
      const watcher = await openSession(discovery.port);
      watcher.send('WATCH');
      await waitFor(() => watcher.lines.some((line) => line.startsWith('SYNCED ')), { what: 'the watch synced' });

      a.kill(signal);
      await onlyHandedOut(discovery, b.port, `LOOKUP to hand out only the live converter after the other was ${signal}ed`);
      expect(await listed(discovery, a.port)).toBe('down lease=1s lapsed');
      await waitFor(() => watcher.lines.some((line) => / health ft in 127\.0\.0\.1 (\d+) down$/.exec(line)?.[1] === String(a.port)), { what: 'a health CHANGE to down pushed to the watcher' });
      expect(await listed(discovery, b.port)).toBe('up lease=1s');
      await waitForLog(() => discovery.output(), 'warn', 'health', { where: (event) => logMatches(event, { endpoint: `127.0.0.1:${a.port}`, to: 'down', reason: /lease lapsed/ }) });
      watcher.close();

      if (signal === 'SIGSTOP') {
        // Thawed, it renews its lease: pending (unproven) again, then up after a probe.
        a.kill('SIGCONT');
        await waitFor(async () => (await listed(discovery, a.port)) === 'up lease=1s', { what: 'the thawed converter up again', timeoutMs: 20_000 });
      }
    });
  }

  it('every ADD renews the lease; when ADDs stop, the lapse is pushed to a watcher as a health CHANGE', { timeout: 60_000 }, async () => {
    const discovery = await startDiscovery(['--db', ':memory:', ...NO_ROUTINE_PROBES]);
    const a = await fake(['ft', 'in'], { factor: 12 });
    const heartbeat = await openSession(discovery.port);
    const add = `ADD ft in 127.0.0.1 ${a.port} lease=1500ms`;
    expect(await ask(heartbeat, add)).toEqual(['SUCCESS']);
    await waitFor(async () => (await listed(discovery, a.port)) === 'up lease=1.5s', { what: 'up with a lease' });
    const watcher = await openSession(discovery.port);
    watcher.send('WATCH');
    await waitFor(() => watcher.lines.some((line) => line.startsWith('SYNCED ')), { what: 'the watch synced' });
    // Renewed, one ADD after the other's reply, for four lease lengths: it never lapses meanwhile.
    const until = Date.now() + 4 * 1_500;
    let renewals = 0;
    while (Date.now() < until) {
      expect(await ask(heartbeat, add)).toEqual(['SUCCESS']);
      renewals++;
    }
    expect(renewals).toBeGreaterThan(4);
    expect(await listed(discovery, a.port)).toBe('up lease=1.5s');
    expect(watcher.lines.filter((line) => line.startsWith('CHANGE '))).toEqual([]);
    // Silence: one lease later it is down, and the watcher is told.
    await waitFor(() => watcher.lines.some((line) => line.endsWith(` health ft in 127.0.0.1 ${a.port} down`)), { what: 'the lapse pushed to the watcher' });
    expect(await listed(discovery, a.port)).toBe('down lease=1.5s lapsed');
    heartbeat.close();
    watcher.close();
  });

  it('a course ADD without a lease is probed as before: listed without one, found down when it dies', { timeout: 60_000 }, async () => {
    const discovery = await startDiscovery(['--db', ':memory:', ...FAST_CHECKS, '--fail-threshold', '2']);
    const a = await fake(['ft', 'in'], { factor: 12 });
    const b = await fake(['ft', 'in'], { factor: 12 });
    expect(await askOnce(discovery.port, `ADD ft in 127.0.0.1 ${a.port}`)).toEqual(['SUCCESS']);
    expect(await askOnce(discovery.port, `ADD ft in 127.0.0.1 ${b.port} lease=1m`)).toEqual(['SUCCESS']);
    await waitFor(async () => (await listed(discovery, a.port)) === 'up', { what: 'the course registration up, no lease in LIST' });
    await a.close();
    await waitFor(async () => (await listed(discovery, a.port)) === 'down', { what: 'the probes to find it down', timeoutMs: 20_000 });
    await onlyHandedOut(discovery, b.port, 'LOOKUP to hand out only the live one');
  });

  it('a restart with the registry file restores a leased registration with a fresh lease, which then lapses unless renewed', { timeout: 60_000 }, async () => {
    const db = dir.file('leases.db');
    const args = ['--db', db, ...NO_ROUTINE_PROBES, '--http-port', '0'];
    const first = await startDiscovery(args);
    const a = await fake(['ft', 'in'], { factor: 12 });
    expect(await askOnce(first.port, `ADD ft in 127.0.0.1 ${a.port} lease=3s`)).toEqual(['SUCCESS']);
    await waitFor(async () => (await listed(first, a.port)) === 'up lease=3s', { what: 'up with a lease' });
    first.kill('SIGKILL');
    await first.exited;
    const killedAt = Date.now();

    const second = await startDiscovery(args);
    const url = loggedHttpUrl(second.output());
    const status = StatusReportSchema.parse(await (await fetch(`${url}status.json`)).json());
    const endpoint = status.pools.flatMap((pool) => pool.endpoints).find((e) => e.port === a.port);
    // A fresh lease: counted from the reopening, after the old process was gone.
    expect(endpoint?.lease).toMatchObject({ ms: 3_000, lapsed: false });
    expect(endpoint?.lease?.expiresAt).toBeGreaterThanOrEqual(killedAt + 3_000);
    expect(status.counts).toMatchObject({ leased: 1 });
    await waitFor(async () => (await listed(second, a.port)) === 'up lease=3s', { what: 'the restored registration up again' });
    // Nobody renews it: it lapses, as any lease does.
    await waitFor(async () => (await listed(second, a.port)) === 'down lease=3s lapsed', { what: 'the restored lease to lapse', timeoutMs: 20_000 });
    const after = StatusReportSchema.parse(await (await fetch(`${url}status.json`)).json());
    expect(after.counts).toMatchObject({ leased: 1, lapsed: 1 });
    expect(after.pools[0]?.endpoints[0]).toMatchObject({ lapses: 1, lease: { ms: 3_000, lapsed: true } });
  });
});
