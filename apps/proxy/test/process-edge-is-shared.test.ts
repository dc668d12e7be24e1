import { readFileSync } from 'node:fs';
import { APP, describeServerProcessEdge } from '@conv/testkit';

const { version } = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string };

describeServerProcessEdge({
  name: 'proxy',
  script: APP.proxy,
  version,
  args: (host) => ['0', '--host', host, '--discovery', '127.0.0.1:9', '--shutdown-timeout', '30s'],
  greets: true,
  keep: { line: 'PERSIST', reply: 'OK persistent' },
  request: { line: 'ft ft 3', answer: '3' },
});
