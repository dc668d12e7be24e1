import { readFileSync } from 'node:fs';
import { APP, describeServerProcessEdge } from '@conv/testkit';

const { version } = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string };

describeServerProcessEdge({
  name: 'discovery',
  script: APP.discovery,
  version,
  args: (host) => ['0', '--host', host, '--db', ':memory:', '--check-interval', '0', '--shutdown-timeout', '30s'],
  greets: false,
  request: { line: 'PING', answer: 'PONG' },
});
