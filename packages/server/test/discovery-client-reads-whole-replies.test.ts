import { APP, LineClient, startServer, stopAll } from '@conv/testkit';
import { afterEach, expect, it } from 'vitest';
import { askDiscovery } from '../src/index';

afterEach(stopAll);

it('reads a whole multi-line LIST reply from the real discovery server', async () => {
  const discovery = await startServer(APP.discovery, ['0', '--db', ':memory:', '--trust-registrations', '--check-interval', '0']);
  const admin = await LineClient.connect(discovery.port);
  for (let port = 7001; port <= 7040; port++) expect(await admin.request(`ADD a${port} b 127.0.0.1 ${port}`)).toEqual(['SUCCESS']);
  admin.close();
  // Forty registrations and END are written at once, so they arrive in as few chunks as TCP likes.
  const reply = await askDiscovery({ host: '127.0.0.1', port: discovery.port }, { verb: 'LIST' }, { timeoutMs: 5000 });
  expect(reply.kind === 'list' && reply.registrations.length).toBe(40);
  expect(reply.kind === 'list' && reply.registrations[39]).toEqual({
    units: ['a7040', 'b'],
    endpoint: { host: '127.0.0.1', port: 7040 },
    health: 'up',
  });
});
