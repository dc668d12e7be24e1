export { startFakeConverter } from './fake-converter';
export type { FakeConverter } from './fake-converter';
export { LineClient, exchange, openSocket } from './line-client';
export { APP, repoPath, startServer, stopAll } from './processes';
export type { ServerProcess } from './processes';
export { waitFor } from './wait-for';
