import { APP, describeConversionServerUnderHostileInput, exchangeBytes, fuzzSeed, startServer, waitFor } from '@conv/testkit';

/**
 * The proxy under hostile input: the built app as a real process, with a real discovery server
 * and a real ft:in converter behind it, under the suite every conversion-protocol server
 * shares. Replay a failing run with FUZZ_SEED=<seed>.
 */
describeConversionServerUnderHostileInput({
  title: 'the proxy under hostile input',
  name: 'proxy',
  seed: fuzzSeed(7_2024),
  greeting: 'HELLO proxy - send "<from> <to> <amount>"',
  start: async ({ maxConnections, idleTimeoutMs }) => {
    const discovery = await startServer(APP.discovery, ['0', '--db', ':memory:', '--check-interval', '0']);
    const converter = await startServer(APP.converter, ['0', '--pair', 'ft:in', '--discovery', `127.0.0.1:${discovery.port}`]);
    const proxy = await startServer(APP.proxy, ['0', '127.0.0.1', String(discovery.port), '--idle-timeout', `${idleTimeoutMs}ms`, '--max-connections', String(maxConnections)]);
    await waitFor(async () => (await exchangeBytes(proxy.port, 'ft in 1'))[1] === '12', { what: 'the proxy answering through the converter', timeoutMs: 20_000 });
    return { server: proxy, alongside: { discovery, converter } };
  },
  refusals: [
    ['kg lbs 1', 'NO_PATH'],
    ['NaN Infinity 1', 'NO_PATH'],
  ],
  // A finite amount whose result is beyond the largest double: the converter refuses it, and
  // the proxy passes on one documented failure.
  documentedFailures: [['overflow', 'ft in 1e308']],
});
