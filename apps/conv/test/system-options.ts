import type { SystemOptions } from '../src/system';

/** The plan `conv up` makes with its defaults on loopback: the system-plan tests start from it. */
export const DEFAULT_SYSTEM: SystemOptions = {
  host: '127.0.0.1',
  discoveryPort: 5555,
  proxyPort: 5556,
  converterPort: 6001,
  replicas: 2,
  dbPath: '/tmp/d.db',
  checkInterval: '1s',
  logLevel: 'info',
};

export const DEFAULT_DISCOVERY = { host: '127.0.0.1', port: 5555 };
