export { startFakeConverter } from './fake-converter';
export type { FakeConverter } from './fake-converter';
export { LineClient, exchange, openSocket } from './line-client';
export { APP, repoPath, startServer, stopAll } from './processes';
export type { ServerProcess } from './processes';
export { waitFor } from './wait-for';
export { HOSTILE_HOSTS, HOSTILE_NUMBERS, HOSTILE_PORTS, RawClient, connectionStorm, describeLine, exchangeBytes, failureCodeOf, fuzzSeed, hostileLine, residentBytes, seededRandom, sendSlowly, steadyClient, textLine, waitUntilStalled, type HostileLine, type Random, type SteadyClient, type StormOutcome } from './hostile';
