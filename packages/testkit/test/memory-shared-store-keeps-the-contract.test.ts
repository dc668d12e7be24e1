import { MemorySharedRegistryStore } from '@conv/registry';
import { describeSharedStoreContract } from '../src/index';

// The contract every shared store keeps, run on the registry's in-memory store (apps/discovery
// runs the same suite on etcd).
describeSharedStoreContract({
  name: 'MemorySharedRegistryStore',
  open: () => {
    const a = new MemorySharedRegistryStore();
    return Promise.resolve({ a, b: a.peer() });
  },
  compact: (store, revision) => {
    (store as MemorySharedRegistryStore).compact(revision);
    return Promise.resolve();
  },
});
