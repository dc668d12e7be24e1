import { LeaseMsSchema, formatAddress } from '@conv/protocol';
import {
  type SharedChange,
  type SharedDeleteResult,
  type SharedPutResult,
  type SharedRecord,
  type SharedRegistration,
  type SharedRegistryStore,
  type SharedSnapshot,
  type SharedSubscription,
  type SharedWatcher,
  type Endpoint,
  endpointOf,
  unitPair,
} from '@conv/registry';
import { ConsecutiveBreaker, ConstantBackoff, circuitBreaker, handleWhen, isBrokenCircuitError, retry } from 'cockatiel';
import { Etcd3, type IDuplexStream, type IKeyValue, type Watcher, isRecoverableError } from 'etcd3';
import { z } from 'zod';

/** Where registrations live in etcd: one key per endpoint under this prefix. */
export const ETCD_PREFIX = '/conv/registry/v1/';

export type EtcdStoreOptions = {
  /** `host:port` of each etcd member (plain http on loopback or a trusted network). */
  endpoints: readonly string[];
  /** Deadline of one call to etcd (a write waits at most this long, then fails UNAVAILABLE). */
  timeoutMs: number;
  prefix?: string;
};

/** How often the client pings each member it is connected to (etcd's minimum). */
const KEEPALIVE_PING_MS = 5_000;
/** How long a member that failed an attempt is skipped. */
const MEMBER_REST_MS = 1_000;
/** The pause before an attempt is tried again (on the next member). */
const RETRY_EVERY_MS = 100;

/**
 * An attempt that failed because of the member itself (unreachable, frozen, too slow), not an
 * answer from a live member that the cluster is between leaders: "leader changed" comes the
 * moment a new leader is known, so resting that member would only delay the retry that works.
 */
const memberFailed = (error: Error): boolean => isRecoverableError(error) && !/etcdserver: (leader changed|no leader|not leader)/.test(error.message);

/** The JSON value of one key: what must survive, as in the SQLite store. */
const StoredValueSchema = z.object({
  pair: z.tuple([z.string(), z.string()]),
  endpoint: z.object({ host: z.string(), port: z.number().int() }),
  addedAt: z.number(),
  /** The lease the registration asked for (ADD ... lease=); its key is attached to an etcd lease of that length. */
  leaseMs: LeaseMsSchema.optional(),
});

/**
 * The registry in etcd (v3 API, through `etcd3`): one key per endpoint, its value JSON
 * `{ pair, endpoint, addedAt, leaseMs? }`. Pool order is the key's create_revision, the same
 * for every replica. A leased registration (ADD ... lease=) is attached to an etcd lease of its
 * own, of that length rounded up to whole seconds (etcd grants no less than its minimum TTL,
 * 2 s with default member settings): a put that finds the key for the same pair and lease only
 * refreshes it (one keepalive), so the converter's heartbeat keeps it alive, and a converter
 * that stops disappears by itself when the lease ends, whether or not any replica is up. A
 * registration without a lease has no etcd lease: it stays until removed (a course server that
 * sends one ADD is probed, and kept). Every call has a deadline, so that a write never hangs
 * while etcd is away, and whatever a call started (a keepalive stream, a watch) is closed when
 * its deadline passes, even if etcd answers later or never.
 */
export class EtcdRegistryStore implements SharedRegistryStore {
  readonly description: string;
  readonly #client: Etcd3;
  readonly #prefix: string;
  readonly #timeoutMs: number;
  readonly #watchers = new Set<Watcher>();
  #closing: Promise<void> | undefined;

  constructor(options: EtcdStoreOptions) {
    this.description = `etcd://${options.endpoints.join(',')}`;
    this.#prefix = options.prefix ?? ETCD_PREFIX;
    this.#timeoutMs = options.timeoutMs;
    // One attempt on one member gets half the call's deadline: a member that is frozen (SIGSTOP,
    // a dead disk, a black-holed network) costs one attempt, and etcd3's retry reaches another
    // member before the call's own deadline.
    const attemptMs = Math.max(1, Math.floor(options.timeoutMs / 2));
    this.#client = new Etcd3({
      hosts: options.endpoints.map((endpoint) => `http://${endpoint}`),
      dialTimeout: options.timeoutMs,
      defaultCallOptions: (context) => (context.isStream ? {} : { deadline: Date.now() + attemptMs }),
      faultHandling: {
        // A member that failed an attempt is left alone for a second, then tried again (etcd3's
        // default is 5 s after three failures: while the cluster elects a leader every member
        // fails for a moment, every breaker opened, and every call then failed at once for 5 s,
        // long enough for leases to run out). A frozen member thus costs one attempt a second.
        host: () => circuitBreaker(handleWhen(memberFailed), { halfOpenAfter: MEMBER_REST_MS, breaker: new ConsecutiveBreaker(1) }),
        // A failed attempt is tried again on the next member; when every member rests (an
        // election), the call waits for the first to be tried again, within its deadline.
        global: retry(handleWhen((error) => isRecoverableError(error) || isBrokenCircuitError(error)), {
          maxAttempts: Math.ceil(options.timeoutMs / RETRY_EVERY_MS) + options.endpoints.length,
          backoff: new ConstantBackoff(RETRY_EVERY_MS),
        }),
      },
      grpcOptions: {
        // A connection to a frozen member answers nothing and is never reset: pings find it,
        // which fails its streams (the watch) so that the replica catches up through another
        // member. etcd refuses pings more often than every 5 s (--grpc-keepalive-min-time),
        // and on a connection without a call at all (so: only while a call is open).
        'grpc.keepalive_time_ms': KEEPALIVE_PING_MS,
        'grpc.keepalive_timeout_ms': options.timeoutMs,
        'grpc.keepalive_permit_without_calls': 0,
      },
    });
  }

  async load(): Promise<SharedSnapshot> {
    const response = await this.#deadline('load', this.#client.kv.range({ key: Buffer.from(this.#prefix), range_end: prefixEnd(this.#prefix) }));
    const records: SharedRecord[] = [];
    for (const kv of response.kvs) {
      const record = this.#record(kv);
      if (record !== undefined) records.push(record);
    }
    records.sort((x, y) => x.order - y.order);
    return { records, revision: Number(response.header.revision) };
  }

  async put(registration: SharedRegistration): Promise<SharedPutResult> {
    const key = this.#key(registration.endpoint);
    const found = await this.#deadline('read', this.#client.kv.range({ key }));
    const existing = found.kvs[0];
    if (existing !== undefined) {
      const outcome = await this.#existing(existing, registration);
      if (outcome !== undefined) return outcome;
    }
    const lease = await this.#grant(registration.leaseMs);
    const value = valueOf(registration);
    // Create only if absent: two replicas adding one endpoint at once make one registration.
    const txn = await this.#deadline(
      'commit',
      this.#client.kv.txn({
        compare: [{ key, target: 'Create', result: 'Equal', create_revision: 0 }],
        success: [{ request_put: { key, value, lease } }],
        failure: [{ request_range: { key } }],
      }),
    );
    if (txn.succeeded) {
      const revision = Number(txn.header.revision);
      return { outcome: 'created', record: { ...recordOf(registration), order: revision, revision } };
    }
    this.#revoke(lease);
    const raced = txn.responses[0]?.response_range?.kvs[0];
    const outcome = raced === undefined ? undefined : await this.#existing(raced, registration);
    if (outcome === undefined) throw new Error('etcd changed the key under us; try again');
    return outcome;
  }

  async delete(endpoint: Endpoint): Promise<SharedDeleteResult> {
    const response = await this.#deadline('delete', this.#client.kv.deleteRange({ key: this.#key(endpoint) }));
    return { deleted: Number(response.deleted) > 0, revision: Number(response.header.revision) };
  }

  async watch(fromRevision: number, watcher: SharedWatcher): Promise<SharedSubscription> {
    const watch = await this.#deadline(
      'watch',
      this.#client.watch().prefix(this.#prefix).startRevision(String(fromRevision)).create(),
      // Created after we gave up: nobody would ever read or cancel it.
      (late) => void late.cancel().catch(() => undefined),
    );
    this.#watchers.add(watch);
    let open = true;
    const stop = (): Promise<void> => {
      if (!open) return Promise.resolve();
      open = false;
      this.#watchers.delete(watch);
      watch.removeAllListeners();
      watch.on('error', () => undefined);
      // Cancelling talks to etcd, which may be the one that is gone: never wait long for it.
      return Promise.race([watch.cancel().catch(() => undefined), sleep(this.#timeoutMs)]);
    };
    const broken = (error: Error): void => {
      if (!open) return;
      void stop();
      watcher.broken(error);
    };
    watch.on('put', (kv: IKeyValue) => {
      if (!open) return;
      const record = this.#record(kv);
      if (record !== undefined) watcher.change({ kind: 'put', record });
    });
    watch.on('delete', (kv: IKeyValue) => {
      if (!open) return;
      const endpoint = this.#endpointOfKey(kv.key);
      if (endpoint !== undefined) watcher.change({ kind: 'delete', endpoint, revision: Number(kv.mod_revision) } satisfies SharedChange);
    });
    // etcd3 would reconnect and resume by itself; the registry prefers a clean reload.
    watch.on('disconnected', (error: Error) => broken(error));
    watch.on('error', (error: Error) => broken(error));
    return { close: stop };
  }

  close(): Promise<void> {
    if (this.#closing === undefined) {
      for (const watch of this.#watchers) {
        watch.removeAllListeners();
        watch.on('error', () => undefined);
      }
      this.#watchers.clear();
      this.#client.close();
      this.#closing = Promise.resolve();
    }
    return this.#closing;
  }

  /**
   * An existing key: for the same pair and lease a refresh (one keepalive of a leased one,
   * nothing for one without), for another pair a conflict. The same pair asking for another
   * lease, or none, or a key that has an etcd lease it should not have (made before leases
   * were asked for): written again, in place, with the lease asked for.
   */
  async #existing(kv: IKeyValue, registration: SharedRegistration): Promise<SharedPutResult | undefined> {
    const record = this.#record(kv);
    if (record === undefined) return undefined;
    if (record.pair[0] !== registration.pair[0] || record.pair[1] !== registration.pair[1]) return { outcome: 'conflict', record };
    const lease = String(kv.lease);
    const leased = lease !== '0';
    if (record.leaseMs !== registration.leaseMs || leased !== (registration.leaseMs !== undefined)) return this.#rewrite(kv, record, registration);
    if (leased) {
      const alive = await this.#deadline('refresh the lease', this.#keepaliveOnce(lease));
      // Expired between our read and the keepalive: etcd deletes the key; create it again.
      if (!alive) return undefined;
    }
    return { outcome: 'refreshed', record };
  }

  /** The same registration with the lease now asked for: one put, only if the key is still as read. */
  async #rewrite(kv: IKeyValue, record: SharedRecord, registration: SharedRegistration): Promise<SharedPutResult | undefined> {
    const wanted: SharedRegistration = { pair: record.pair, endpoint: record.endpoint, addedAt: record.addedAt, ...leaseOf(registration.leaseMs) };
    const lease = await this.#grant(wanted.leaseMs);
    const txn = await this.#deadline(
      'commit',
      this.#client.kv.txn({
        compare: [{ key: kv.key, target: 'Mod', result: 'Equal', mod_revision: kv.mod_revision }],
        success: [{ request_put: { key: kv.key, value: valueOf(wanted), lease } }],
        failure: [],
      }),
    );
    if (!txn.succeeded) {
      this.#revoke(lease);
      return undefined;
    }
    // The old lease holds no key any more: let it go now rather than at its end.
    this.#revoke(String(kv.lease));
    return { outcome: 'refreshed', record: { ...recordOf(wanted), order: record.order, revision: Number(txn.header.revision) } };
  }

  /** A lease of `leaseMs` rounded up to whole seconds, or '0' (no lease) without one. */
  async #grant(leaseMs: number | undefined): Promise<string> {
    if (leaseMs === undefined) return '0';
    const granted = await this.#deadline('grant a lease', this.#client.leaseClient.leaseGrant({ TTL: Math.ceil(leaseMs / 1000) }));
    return String(granted.ID);
  }

  #revoke(lease: string): void {
    if (lease !== '0') void this.#client.leaseClient.leaseRevoke({ ID: lease }).catch(() => undefined);
  }

  /**
   * One keepalive of `lease` on a stream of its own: whether the lease is still alive. The stream
   * is closed once answered, and at the deadline if etcd never answers (a frozen member).
   */
  async #keepaliveOnce(lease: string): Promise<boolean> {
    const started = Date.now();
    const stream = await this.#deadline('open a lease keepalive', this.#client.leaseClient.leaseKeepAlive(), closeStream);
    try {
      const answer = new Promise<boolean>((resolve, reject) => {
        stream.on('data', (response: { TTL: string }) => resolve(Number(response.TTL) > 0));
        stream.on('error', reject);
        stream.write({ ID: lease });
      });
      return await this.#deadline('refresh the lease', answer, undefined, this.#timeoutMs - (Date.now() - started));
    } finally {
      closeStream(stream);
    }
  }

  #record(kv: IKeyValue): SharedRecord | undefined {
    try {
      const value = StoredValueSchema.parse(JSON.parse(kv.value.toString('utf8')));
      const endpoint = endpointOf(value.endpoint.host, value.endpoint.port);
      if (this.#key(endpoint).toString('utf8') !== kv.key.toString('utf8')) return undefined;
      return {
        pair: unitPair(value.pair[0], value.pair[1]),
        endpoint,
        addedAt: value.addedAt,
        order: Number(kv.create_revision),
        revision: Number(kv.mod_revision),
        ...leaseOf(value.leaseMs),
      };
    } catch {
      // Not one of ours (another tool's key under the prefix): not a registration.
      return undefined;
    }
  }

  #endpointOfKey(key: Buffer): Endpoint | undefined {
    const text = key.toString('utf8');
    if (!text.startsWith(this.#prefix)) return undefined;
    const match = /^(?:\[([^\]]+)\]|([^:]+)):(\d+)$/.exec(text.slice(this.#prefix.length));
    if (!match) return undefined;
    try {
      return endpointOf(match[1] ?? match[2] ?? '', Number(match[3]));
    } catch {
      return undefined;
    }
  }

  #key(endpoint: Endpoint): Buffer {
    return Buffer.from(`${this.#prefix}${formatAddress(endpoint)}`);
  }

  /**
   * `call`, or a rejection once `ms` have passed. A call that still succeeds after that hands
   * what it started to `abandon` (nobody else will ever close it).
   */
  #deadline<T>(what: string, call: Promise<T>, abandon?: (late: T) => void, ms = this.#timeoutMs): Promise<T> {
    let timer: NodeJS.Timeout | undefined;
    let gaveUp = false;
    const expired = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        gaveUp = true;
        reject(new Error(`etcd did not ${what} within ${this.#timeoutMs} ms`));
      }, Math.max(0, ms));
    });
    if (abandon !== undefined) {
      call.then(
        (late) => {
          if (gaveUp) abandon(late);
        },
        () => undefined,
      );
    }
    return Promise.race([call, expired]).finally(() => clearTimeout(timer));
  }
}

function leaseOf(leaseMs: number | undefined): { leaseMs?: number } {
  return leaseMs === undefined ? {} : { leaseMs };
}

/** What a key's value says of a registration (and what the record made from it carries). */
function recordOf(registration: SharedRegistration): SharedRegistration {
  return { pair: registration.pair, endpoint: registration.endpoint, addedAt: registration.addedAt, ...leaseOf(registration.leaseMs) };
}

function valueOf(registration: SharedRegistration): Buffer {
  return Buffer.from(JSON.stringify(recordOf(registration)));
}

/** The key just past every key with this prefix (etcd's range_end for a prefix). */
function prefixEnd(prefix: string): Buffer {
  const end = Buffer.from(prefix);
  for (let i = end.length - 1; i >= 0; i--) {
    if (end[i]! < 0xff) {
      end[i] = end[i]! + 1;
      return end.subarray(0, i + 1);
    }
  }
  return Buffer.from([0]);
}

/** Ends a client stream now, answered or not: half-closes it, then cancels what etcd has not closed. */
function closeStream(stream: IDuplexStream<unknown, unknown>): void {
  // Cancelling reports CANCELLED as an error; ended first, etcd3 does not count it against the member.
  stream.on('error', () => undefined);
  stream.end();
  stream.cancel();
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}
