import { APP, RawClient, describeConversionServerUnderHostileInput, fuzzSeed, residentBytes, startServer, waitUntilStalled } from '@conv/testkit';
import { expect, it } from 'vitest';

/**
 * A converter under hostile input: the built app as a real process (serving ft:in, not
 * registered anywhere), under the suite every conversion-protocol server shares, plus the
 * converter's own cases. Replay a failing run with FUZZ_SEED=<seed>.
 */
describeConversionServerUnderHostileInput({
  title: 'a converter under hostile input',
  name: 'converter',
  seed: fuzzSeed(7_2024),
  greeting: 'HELLO converter ft in - send "<from> <to> <amount>"',
  start: async ({ maxConnections, idleTimeoutMs }) => ({
    server: await startServer(APP.converter, ['0', '--pair', 'ft:in', '--no-register', '--idle-timeout', `${idleTimeoutMs}ms`, '--max-connections', String(maxConnections)]),
  }),
  refusals: [
    ['kg lbs 1', 'WRONG_PAIR'],
    // A finite amount whose result is beyond the largest double.
    ['ft in 1e308', 'BAD_AMOUNT'],
  ],
  moreHostility: ({ greeting: GREETING, maxRssGrowth, port, pid, expectAlive }) => {
    // Regression: in persistent mode the converter answered a whole 64 KB chunk before looking at
    // the client's unread replies, and a 2-byte bad line costs a 100-byte FAILURE: 20 clients that
    // pipelined 1 MB each without reading grew it by 37 to 115 MB (60 clients: more). Now it answers only as fast as
    // the client reads.
    it('answers a client that pipelines without reading only as fast as it reads, holding no backlog', async () => {
      const before = residentBytes(pid());
      const hoarders = await Promise.all(
        Array.from({ length: 60 }, async () => {
          const client = await RawClient.connect(port());
          client.socket.pause();
          client.write(`PERSIST\n${'x\n'.repeat(500_000)}`);
          return client;
        }),
      );
      await waitUntilStalled(hoarders, '60 clients that do not read stalled');
      const growth = residentBytes(pid()) - before;
      console.log(`converter: 60 clients pipelining 1 MB of bad lines without reading grew VmRSS by ${(growth / 2 ** 20).toFixed(1)} MB`);
      expect(growth).toBeLessThan(maxRssGrowth);
      for (const client of hoarders) client.destroy();

      // A client that reads at last gets every reply, in order, then the server's close.
      const late = await RawClient.connect(port());
      late.socket.pause();
      late.socket.end(`PERSIST\n${'ft in 1\n'.repeat(100_000)}ft in 2`);
      await waitUntilStalled([late], 'a client that does not read stalled');
      late.socket.resume();
      const lines = await late.waitForEnd(20_000);
      expect(lines).toHaveLength(100_003);
      expect(lines.slice(0, 2)).toEqual([GREETING, 'OK persistent']);
      expect(lines.filter((line) => line === '12')).toHaveLength(100_000);
      expect(lines.at(-1)).toBe('24');
      expectAlive();
    }, 60_000);
  },
});
