import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { type ServerDuplexStream, type ServiceClientConstructor, Server, ServerCredentials, loadPackageDefinition } from '@grpc/grpc-js';
import { loadSync } from '@grpc/proto-loader';

/**
 * A hostile etcd for deadline tests: a real gRPC server on loopback speaking etcd's v3 API
 * (etcd3's own proto files) that answers a read with one registration held on a lease, and
 * accepts lease keepalive streams but never answers them, as a member frozen between two calls
 * of one ADD would. It counts the keepalive streams the client has left open.
 */
export type SilentEtcd = {
  /** `127.0.0.1:<port>`, as `--store etcd://...` takes it. */
  readonly endpoint: string;
  /** Keepalive requests received (each on its own stream). */
  readonly keepalivesReceived: number;
  /** Keepalive streams the client has neither ended nor cancelled. */
  readonly keepalivesOpen: number;
  close(): Promise<void>;
};

const PROTO = join(dirname(createRequire(import.meta.url).resolve('etcd3/package.json')), 'proto', 'rpc.proto');

type Services = { etcdserverpb: { KV: ServiceClientConstructor; Lease: ServiceClientConstructor } };

export async function startSilentEtcd(registration: { key: string; value: string; lease: string }): Promise<SilentEtcd> {
  const definition = loadSync(PROTO, { keepCase: true, longs: String, enums: String, defaults: true, oneofs: true });
  const { etcdserverpb } = loadPackageDefinition(definition) as unknown as Services;
  const header = { cluster_id: '1', member_id: '1', revision: '7', raft_term: '2' };
  let received = 0;
  let open = 0;
  const server = new Server();
  server.addService(etcdserverpb.KV.service, {
    Range: (_call: unknown, reply: (error: null, response: unknown) => void) => {
      const kv = { key: Buffer.from(registration.key), value: Buffer.from(registration.value), create_revision: '5', mod_revision: '5', version: '1', lease: registration.lease };
      reply(null, { header, kvs: [kv], more: false, count: '1' });
    },
  });
  server.addService(etcdserverpb.Lease.service, {
    LeaseKeepAlive: (stream: ServerDuplexStream<unknown, unknown>) => {
      open++;
      let closed = false;
      const close = () => {
        if (closed) return;
        closed = true;
        open--;
      };
      stream.on('data', () => received++);
      // The client half-closed (end) or reset (cancel) its side: the stream is released.
      stream.on('end', () => {
        close();
        stream.end();
      });
      stream.on('cancelled', close);
      stream.on('error', close);
    },
  });
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync('127.0.0.1:0', ServerCredentials.createInsecure(), (error, bound) => (error ? reject(error) : resolve(bound))),
  );
  return {
    endpoint: `127.0.0.1:${port}`,
    get keepalivesReceived() {
      return received;
    },
    get keepalivesOpen() {
      return open;
    },
    close: () => new Promise<void>((resolve) => server.tryShutdown(() => resolve())),
  };
}
