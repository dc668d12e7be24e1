import { APP, type FakeConverter, type ServerProcess, exchange, startFakeConverter, startServer, stopAll, waitFor, describeWithEtcd, useEtcdServer } from '@conv/testkit';
import { afterEach, describe, expect, it } from 'vitest';
import { askOnce, FAST_CHECKS, list, openSession, readReply, startDiscovery } from './helpers';

// Two discovery replicas on one real etcd (own data dir, own loopback ports), as users run them
// with `--store etcd://...`: writes on one are seen on the other, dead converters vanish by lease
// expiry, the proxy fails over between replicas, and an etcd crash loses no acknowledged write.
describeWithEtcd('on a real etcd', {}, () => {
  const etcdServer = useEtcdServer();
  const converters: FakeConverter[] = [];

  afterEach(async () => {
    await stopAll();
    for (const converter of converters.splice(0)) await converter.close();
  });

  /** Two replicas on the file's etcd (tests start from an empty registry with `clear`). */
  async function replicas(extra: readonly string[] = []): Promise<[ServerProcess, ServerProcess]> {
    const args = ['--store', etcdServer().url, ...FAST_CHECKS, ...extra];
    return Promise.all([startDiscovery(args), startDiscovery(args)]);
  }

  async function fakeConverter(units: readonly [string, string], factor: number): Promise<FakeConverter> {
    const converter = await startFakeConverter({ units, factor });
    converters.push(converter);
    return converter;
  }

  /** Removes everything a previous test left in the shared registry (one etcd per file). */
  async function clear(replica: ServerProcess): Promise<void> {
    for (const line of await list(replica.port)) {
      const [, , host, port] = line.split(' ');
      // From the endpoint's own host: an owner's REMOVE removes (anyone else's is a report).
      await askOnce(replica.port, `REMOVE ${host} ${port}`, { localAddress: host });
    }
    await waitFor(async () => (await list(replica.port)).length === 0, { what: 'an empty registry', timeoutMs: 15_000 });
  }

  describe('discovery replicas sharing one registry in etcd', { timeout: 60_000 }, () => {
    it('says in its banner that the registry is shared in etcd', async () => {
      const [a] = await replicas();
      expect(a.banner).toContain(`registry ${etcdServer().url} (shared)`);
    });

    it('shows an ADD on one replica to LOOKUP on the other, and a REMOVE likewise', async () => {
      const [a, b] = await replicas();
      await clear(a);
      const ftIn = await fakeConverter(['ft', 'in'], 12);
      expect(await askOnce(a.port, `ADD ft in 127.0.0.1 ${ftIn.port}`)).toEqual(['SUCCESS']);
      // b learns it from etcd's watch and admits it after its own probe.
      await waitFor(async () => (await askOnce(b.port, 'LOOKUP ft in'))[0] === `127.0.0.1 ${ftIn.port}`, {
        what: 'the ADD made on a to be served by b',
        timeoutMs: 15_000,
      });
      expect((await list(b.port))).toEqual([`ft in 127.0.0.1 ${ftIn.port} up`]);

      expect(await askOnce(b.port, `REMOVE 127.0.0.1 ${ftIn.port}`)).toEqual(['SUCCESS']);
      await waitFor(async () => (await askOnce(a.port, 'LOOKUP ft in'))[0]?.endsWith('(UNKNOWN_PAIR)'), {
        what: 'the REMOVE made on b to reach a',
        timeoutMs: 15_000,
      });
      expect(await list(a.port)).toEqual([]);
    });

    it('keeps one pool order on both replicas and refuses an endpoint claimed for another pair', async () => {
      const [a, b] = await replicas();
      await clear(a);
      const ones = [await fakeConverter(['ft', 'in'], 12), await fakeConverter(['ft', 'in'], 12), await fakeConverter(['ft', 'in'], 12)];
      expect(await askOnce(a.port, `ADD ft in 127.0.0.1 ${ones[0]!.port}`)).toEqual(['SUCCESS']);
      expect(await askOnce(b.port, `ADD in ft 127.0.0.1 ${ones[1]!.port}`)).toEqual(['SUCCESS']);
      expect(await askOnce(a.port, `ADD ft in 127.0.0.1 ${ones[2]!.port}`)).toEqual(['SUCCESS']);
      const order = ones.map((c) => `ft in 127.0.0.1 ${c.port} up`);
      await waitFor(async () => JSON.stringify(await list(a.port)) === JSON.stringify(order), { what: 'a: three up, in order', timeoutMs: 15_000 });
      await waitFor(async () => JSON.stringify(await list(b.port)) === JSON.stringify(order), { what: 'b: three up, in order', timeoutMs: 15_000 });
      const [claimed] = await askOnce(b.port, `ADD kg g 127.0.0.1 ${ones[0]!.port}`);
      expect(claimed).toMatch(/^FAILURE entry exists\. .*\(ENTRY_EXISTS\)$/);
    });

    it('answers pipelined requests in order while ADD waits for etcd', async () => {
      const [a] = await replicas(['--trust-registrations']);
      await clear(a);
      const ftIn = await fakeConverter(['ft', 'in'], 12);
      const client = await openSession(a.port);
      try {
        client.send(`PING\nADD ft in 127.0.0.1 ${ftIn.port}\nLOOKUP ft in\nREMOVE 127.0.0.1 ${ftIn.port}\nPING`);
        const replies = [];
        for (let i = 0; i < 5; i++) replies.push(await client.nextLine(10_000));
        // The LOOKUP is handled after the ADD it follows on this connection: a client reads its own writes.
        expect(replies).toEqual(['PONG', 'SUCCESS', `127.0.0.1 ${ftIn.port}`, 'SUCCESS', 'PONG']);
      } finally {
        client.close();
      }
    });

    it('drops a converter that stopped re-announcing from both replicas when its lease ends', async () => {
      const [a, b] = await replicas(['--lease-ttl', '2s']);
      await clear(a);
      const converter = await startServer(APP.converter, [
        '0', '--pair', 'ft:in', '--discovery', `127.0.0.1:${a.port},127.0.0.1:${b.port}`, '--announce-interval', '300ms',
      ]);
      const registered = `ft in 127.0.0.1 ${converter.port}`;
      for (const replica of [a, b]) {
        await waitFor(async () => (await list(replica.port)).some((line) => line.startsWith(registered)), { what: 'the converter on both replicas', timeoutMs: 15_000 });
      }
      // No REMOVE: it dies. Its re-announces stop, its lease ends, etcd deletes the key,
      // and both replicas see the delete through their watch.
      converter.kill('SIGKILL');
      await converter.exited;
      for (const replica of [a, b]) {
        await waitFor(async () => !(await list(replica.port)).some((line) => line.startsWith(registered)), {
          what: 'the dead converter to disappear by lease expiry',
          timeoutMs: 20_000,
        });
      }
      await waitFor(() => /remote-removed/.test(b.output()), { what: 'remote-removed in b\'s log' });
    });

    it('keeps the proxy answering through the other replica when one is SIGKILLed', async () => {
      const [a, b] = await replicas();
      await clear(a);
      const discoveries = `127.0.0.1:${a.port},127.0.0.1:${b.port}`;
      const converter = await startServer(APP.converter, ['0', '--pair', 'ft:in', '--discovery', discoveries, '--announce-interval', '300ms']);
      await waitFor(async () => (await list(b.port)).includes(`ft in 127.0.0.1 ${converter.port} up lease=5s`), { what: 'the converter up on b', timeoutMs: 15_000 });
      // A short path TTL: the proxy must ask discovery again and again, not live on its cache.
      const proxy = await startServer(APP.proxy, ['0', '--discovery', discoveries, '--path-ttl', '50ms', '--stale-ttl', '50ms']);
      const question = async () => (await exchange(proxy.port, 'ft in 2'))[1];
      await waitFor(async () => (await question()) === '24', { what: 'the proxy answering through a', timeoutMs: 15_000 });

      a.kill('SIGKILL');
      await a.exited;
      let answered = 0;
      await waitFor(
        async () => {
          if ((await question()) === '24') answered++;
          return answered >= 5;
        },
        { what: 'five answers through b after a died', timeoutMs: 20_000 },
      );
      // The converter's re-announce moved to b too, and nothing was lost there.
      expect(await list(b.port)).toContain(`ft in 127.0.0.1 ${converter.port} up lease=5s`);
      // (The proxy's failover between discovery replicas is judged by its answers in apps/proxy, without etcd.)
    });

    it('acknowledges an ADD only once etcd has it: every SUCCESS of a stream cut by etcd\'s SIGKILL is known to a replica started afterwards', async () => {
      // Endpoints where nothing listens: kept (down) for the whole test by long graces.
      const [a] = await replicas(['--lease-ttl', '5m', '--down-grace', '10m', '--pending-grace', '10m']);
      await clear(a);
      const session = await openSession(a.port);
      const acknowledged: number[] = [];
      const refused: string[] = [];
      let writing = true;
      // ADDs one after another, still going when etcd is killed: some are in flight at that moment.
      const writer = (async () => {
        for (let port = 40_001; writing && port < 41_000; port++) {
          session.send(`ADD ft in 127.0.0.3 ${port}`);
          const [reply] = await readReply(session, `ADD ft in 127.0.0.3 ${port}`, 10_000);
          if (reply === 'SUCCESS') acknowledged.push(port);
          else refused.push(reply ?? '');
        }
      })().catch((error: unknown) => refused.push(`writer failed: ${error instanceof Error ? error.message : String(error)}`));
      await waitFor(() => acknowledged.length >= 20, { what: 'twenty ADDs acknowledged before the kill' });
      await etcdServer().kill();
      await waitFor(() => refused.length >= 2, { what: 'ADDs refused while etcd is down', timeoutMs: 20_000 });
      writing = false;
      await writer;
      session.close();
      expect(refused.filter((reply) => !reply.endsWith('(UNAVAILABLE)'))).toEqual([]);

      await etcdServer().restart();
      // A replica that was not running during any of it knows only what etcd kept.
      const fresh = await startDiscovery(['--store', etcdServer().url, ...FAST_CHECKS, '--down-grace', '10m', '--pending-grace', '10m']);
      const known = async () => new Set((await list(fresh.port)).map((line) => Number(line.split(' ')[3])));
      await waitFor(async () => (await known()).size >= acknowledged.length, { what: 'the fresh replica to load the registry', timeoutMs: 20_000 });
      const kept = await known();
      expect(acknowledged.filter((port) => !kept.has(port))).toEqual([]);
    }, 90_000);

    it('loses no acknowledged registration when etcd is SIGKILLed and restarted; meanwhile lookups work and ADD is UNAVAILABLE', async () => {
      const [a, b] = await replicas(['--lease-ttl', '1m']);
      await clear(a);
      const kept = [await fakeConverter(['ft', 'in'], 12), await fakeConverter(['lbs', 'kg'], 0.45359237)];
      expect(await askOnce(a.port, `ADD ft in 127.0.0.1 ${kept[0]!.port}`)).toEqual(['SUCCESS']);
      expect(await askOnce(b.port, `ADD lbs kg 127.0.0.1 ${kept[1]!.port}`)).toEqual(['SUCCESS']);
      const registered = [`ft in 127.0.0.1 ${kept[0]!.port} up`, `kg lbs 127.0.0.1 ${kept[1]!.port} up`];
      for (const replica of [a, b]) {
        await waitFor(async () => JSON.stringify(await list(replica.port)) === JSON.stringify(registered), { what: 'both registered and up', timeoutMs: 15_000 });
      }

      await etcdServer().kill();
      const late = await fakeConverter(['m', 'cm'], 100);
      await waitFor(async () => (await askOnce(a.port, `ADD m cm 127.0.0.1 ${late.port}`))[0]?.endsWith('(UNAVAILABLE)'), {
        what: 'ADD to answer UNAVAILABLE while etcd is down',
        timeoutMs: 15_000,
      });
      const [refused] = await askOnce(b.port, `ADD m cm 127.0.0.1 ${late.port}`);
      expect(refused).toBe('FAILURE unavailable. The shared registry (etcd) is unreachable; nothing was changed. (UNAVAILABLE)');
      // Reads come from memory: unaffected.
      expect(await askOnce(a.port, 'LOOKUP in ft')).toEqual([`127.0.0.1 ${kept[0]!.port}`]);
      expect(await askOnce(b.port, 'LOOKUP kg lbs')).toEqual([`127.0.0.1 ${kept[1]!.port}`]);
      expect(await askOnce(b.port, 'LOOKUP_MULTI lbs kg')).toEqual([`lbs kg 127.0.0.1 ${kept[1]!.port} 1`]);
      expect(await list(a.port)).toEqual(registered);

      await etcdServer().restart();
      await waitFor(async () => (await askOnce(a.port, `ADD m cm 127.0.0.1 ${late.port}`))[0] === 'SUCCESS', {
        what: 'ADD to work again once etcd is back',
        timeoutMs: 20_000,
      });
      const all = [...registered, `cm m 127.0.0.1 ${late.port} up`];
      for (const replica of [a, b]) {
        await waitFor(async () => JSON.stringify(await list(replica.port)) === JSON.stringify(all), {
          what: 'every acknowledged registration on both replicas after the restart',
          timeoutMs: 20_000,
        });
      }
      // An ADD works again as soon as etcd answers, but each replica follows etcd's changes
      // again only once it has caught up: a REMOVE made through one must reach the other.
      expect(await askOnce(b.port, `REMOVE 127.0.0.1 ${late.port}`)).toEqual(['SUCCESS']);
      for (const replica of [a, b]) {
        await waitFor(async () => JSON.stringify(await list(replica.port)) === JSON.stringify(registered), {
          what: 'the REMOVE made through b after the restart to reach both replicas',
          timeoutMs: 20_000,
        });
      }
      // And the operator was told, on each replica (the lines may still be on their way).
      for (const replica of [a, b]) {
        await waitFor(() => /store-unreachable/.test(replica.output()) && /store-back/.test(replica.output()), {
          what: 'store-unreachable then store-back in the log',
          timeoutMs: 20_000,
        });
      }
    }, 90_000);
  });
});
