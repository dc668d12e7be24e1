import { APP, describeConversionServerUnderHostileInput, fuzzSeed, startServer } from '@conv/testkit';

/**
 * A converter under hostile input: the built app as a real process (serving ft:in, not
 * registered anywhere), under the suite every conversion-protocol server shares. Replay a failing run with FUZZ_SEED=<seed>.
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
});
