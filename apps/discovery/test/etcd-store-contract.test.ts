import { EtcdServer, etcdPresence } from '@conv/testkit';
import { afterAll, beforeAll, describe, it } from 'vitest';
import { Etcd3 } from 'etcd3';
import { describeSharedStoreContract } from '../../../packages/registry/test/shared-store-contract';
import { ETCD_PREFIX, EtcdRegistryStore } from '../src/etcd-store';

// The registry package's shared-store contract, run on a real etcd (the same suite runs on
// the in-memory store in packages/registry).
const presence = etcdPresence();

if (presence === 'required-but-missing') {
  describe('etcd store', () => {
    it('needs the etcd binary in CI (apt-get install etcd-server)', () => {
      throw new Error('CI is set but no `etcd` binary is on PATH: .ci/run should have installed etcd-server');
    });
  });
} else {
  // Without etcd (and outside CI) the suite is listed as skipped, after the loud banner above.
  describe.skipIf(presence === 'skip')('the shared-store contract on a real etcd', () => {
    let etcd: EtcdServer | undefined;
    beforeAll(async () => {
      etcd = await EtcdServer.start();
    }, 30_000);
    afterAll(async () => {
      await etcd?.destroy();
    });

    describeSharedStoreContract({
      name: 'EtcdRegistryStore',
      open: (namespace) => {
        const endpoint = etcd?.endpoint ?? '';
        // Each test its own prefix on the file's etcd: a fresh registry every time.
        const open = () => new EtcdRegistryStore({ endpoints: [endpoint], leaseTtlSeconds: 30, timeoutMs: 5_000, prefix: `${ETCD_PREFIX}${namespace}/` });
        return Promise.resolve({ a: open(), b: open() });
      },
      compact: async (_store, revision) => {
        const client = new Etcd3({ hosts: `http://${etcd?.endpoint ?? ''}` });
        try {
          await client.kv.compact({ revision: String(revision), physical: true });
        } finally {
          client.close();
        }
      },
    });
  });
}
