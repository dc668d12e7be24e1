import { describeSharedStoreContract, describeWithEtcd, useEtcdServer } from '@conv/testkit';
import { Etcd3 } from 'etcd3';
import { ETCD_PREFIX, EtcdRegistryStore } from '../src/etcd-store';

// The shared-store contract (from the testkit), run on a real etcd (the testkit runs the same
// suite on the registry's in-memory store).
describeWithEtcd('the shared-store contract on a real etcd', {}, () => {
  const etcd = useEtcdServer();

  describeSharedStoreContract({
    name: 'EtcdRegistryStore',
    open: (namespace) => {
      const endpoint = etcd().endpoint;
      // Each test its own prefix on the file's etcd: a fresh registry every time.
      const open = () => new EtcdRegistryStore({ endpoints: [endpoint], timeoutMs: 5_000, prefix: `${ETCD_PREFIX}${namespace}/` });
      return Promise.resolve({ a: open(), b: open() });
    },
    compact: async (_store, revision) => {
      const client = new Etcd3({ hosts: `http://${etcd().endpoint}` });
      try {
        await client.kv.compact({ revision: String(revision), physical: true });
      } finally {
        client.close();
      }
    },
  });
});
