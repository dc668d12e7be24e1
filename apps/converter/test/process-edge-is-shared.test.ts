import { readFileSync } from 'node:fs';
import { APP, describeServerProcessEdge } from '@conv/testkit';

const { version } = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string };

describeServerProcessEdge({
  name: 'converter',
  script: APP.converter,
  version,
  args: (host) => ['0', '--host', host, '--pair', 'ft:in', '--no-register', '--shutdown-timeout', '30s'],
  greets: true,
  keep: { line: 'PERSIST', reply: 'OK persistent' },
  request: { line: 'ft in 1', answer: '12' },
});
