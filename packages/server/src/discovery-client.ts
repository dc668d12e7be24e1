import { type Socket, connect } from 'node:net';
import {
  type DiscoveryReply,
  type DiscoveryReplyReader,
  type DiscoveryRequest,
  type Endpoint,
  LineSplitter,
  createDiscoveryReplyReader,
  formatAddress,
  formatDiscoveryRequest,
} from '@conv/protocol';
import { ServerError } from './errors';
import type { Logger } from './log';
import { type DiscoveryWatcher, WatchFollower } from './watch-follower';

/**
 * One request on its own connection, as the course's clients made them: connect, send one
 * line, read the whole reply, close. Lines before the reply that cannot start it (greetings of
 * any wording) are skipped. Rejects with ServerError DISCOVERY_UNREACHABLE when no connection
 * is made (refused, reset, no answer to the connect in time), and DISCOVERY_SILENT when the
 * server took the request but closed, or let the deadline pass, before a whole reply: some
 * course servers never answer an ADD.
 */
export function askDiscovery(discovery: Endpoint, request: DiscoveryRequest, options: { timeoutMs: number }): Promise<DiscoveryReply> {
  return new Promise((resolve, reject) => {
    const where = `discovery ${formatAddress(discovery)}`;
    const socket = connect({ host: discovery.host, port: discovery.port, noDelay: true });
    const splitter = new LineSplitter({ maxLineBytes: 64 * 1024 });
    const reader = createDiscoveryReplyReader(request.verb);
    let connected = false;
    let settled = false;
    const settle = (outcome: { reply: DiscoveryReply } | { error: string }): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      if ('reply' in outcome) resolve(outcome.reply);
      else reject(new ServerError(connected ? 'DISCOVERY_SILENT' : 'DISCOVERY_UNREACHABLE', `${where}: ${outcome.error}`));
    };
    const timer = setTimeout(() => settle({ error: connected ? `no reply within ${options.timeoutMs} ms` : `no connection within ${options.timeoutMs} ms` }), options.timeoutMs);
    const read = (frames: ReturnType<LineSplitter['push']>): void => {
      for (const framed of frames) {
        if (!framed.ok) continue;
        const step = reader.push(framed.line);
        if (step.done) return settle({ reply: step.reply });
      }
    };
    socket.once('connect', () => {
      connected = true;
      socket.write(formatDiscoveryRequest(request));
    });
    socket.on('data', (chunk: Buffer) => read(splitter.push(chunk)));
    socket.on('end', () => read(splitter.end()));
    socket.on('error', (error: NodeJS.ErrnoException) => settle({ error: error.code === 'ECONNREFUSED' ? 'nothing is listening there (ECONNREFUSED)' : (error.code ?? error.message) }));
    socket.on('close', () => settle({ error: 'closed the connection without a reply' }));
  });
}

/**
 * How long a client stays away from the first-listed replica after leaving it (unreachable, or
 * answering UNAVAILABLE) before trying it again: what made it leave (a restart, a replica cut off
 * from etcd) is usually over by then, and the operator's order of the list is kept.
 */
export const RETURN_AFTER_MS = 30_000;

/**
 * A replica that answered UNAVAILABLE cannot reach the shared registry (etcd) now; another
 * replica of the same registry may. Every other reply, failures included, is the registry's answer.
 */
export function isUnavailable(reply: DiscoveryReply): boolean {
  return reply.kind === 'failure' && reply.failure.code === 'UNAVAILABLE';
}

type Pending = {
  readonly request: DiscoveryRequest;
  readonly line: string;
  readonly verb: DiscoveryRequest['verb'];
  /** Replaced when the request is sent again to another replica. */
  reader: DiscoveryReplyReader;
  /** Replicas that answered it UNAVAILABLE so far: at the last one, that answer is the reply. */
  unavailable: number;
  readonly resolve: (reply: DiscoveryReply) => void;
  readonly reject: (error: Error) => void;
  timer: NodeJS.Timeout | undefined;
};

type State = 'idle' | 'connecting' | 'handshake' | 'ready' | 'down' | 'closed';

const BACKOFF_MIN_MS = 50;
const BACKOFF_MAX_MS = 1000;
/** A quiet connection sends PING this often: discovery closes idle connections, and a stopped one must be noticed. */
const HEARTBEAT_MS = 5000;

export type DiscoverySessionOptions = {
  /** Discovery replicas sharing one registry (or just one server), tried in turn. */
  addresses: readonly Endpoint[];
  /** How long one request may wait for its reply (and a connection for its first PONG). */
  timeoutMs: number;
  log: Logger;
  /** Logged when every replica is unreachable: what the client does meanwhile. */
  whileDown?: string;
  /** After leaving the first-listed replica, go back to it this long after (default RETURN_AFTER_MS). */
  returnAfterMs?: number;
  /** Follow every change on the same connection, from a discovery that lists `watch`. */
  watch?: DiscoveryWatcher;
};

/**
 * One persistent, pipelined connection to discovery: requests are written as they come and
 * replies matched to them in order. Reconnects by itself with backoff, moving to the next
 * replica when one is unreachable. On connect it asks FEATURES and, from a server that lists
 * `session`, asks for one (`SESSION`); the connection counts as up once that is granted. A
 * server that lists no session (another team's) is asked one request per connection instead.
 * Requests made while a connection attempt is under way wait for it; requests made while
 * discovery is known to be down fail at once (ServerError DISCOVERY_UNREACHABLE), so the
 * caller can answer from what it knows.
 */
export class DiscoverySession {
  readonly addresses: readonly Endpoint[];
  #current = 0;
  /** Connection attempts failed since the last one that reached PONG. */
  #failedInRow = 0;
  #lastReady: Endpoint | undefined;
  /** When the connection last moved away from the first-listed replica. */
  #leftFirstAt: number | undefined;
  #state: State = 'idle';
  #socket: Socket | undefined;
  #splitter = new LineSplitter();
  #pending: Pending[] = [];
  #backoffMs = BACKOFF_MIN_MS;
  #retryTimer: NodeJS.Timeout | undefined;
  #everUp = false;
  #reportedDown = false;
  #lastWriteAt = 0;
  #heartbeat: NodeJS.Timeout | undefined;
  /** The handshake's reply in progress: FEATURES first, then SESSION. */
  #handshake: { verb: 'FEATURES' | 'SESSION'; reader: DiscoveryReplyReader } | undefined;
  /** The server lists no session: every request goes on a connection of its own. */
  #oneShot = false;
  /** What the server in use listed in FEATURES (none for a course server). */
  #features: readonly string[] = [];
  readonly #follower: WatchFollower | undefined;
  readonly #options: DiscoverySessionOptions;
  readonly #log: Logger;

  constructor(options: DiscoverySessionOptions) {
    if (options.addresses.length === 0) throw new ServerError('USAGE', 'at least one discovery address is needed');
    this.addresses = options.addresses;
    this.#options = options;
    this.#log = options.log;
    this.#follower = options.watch === undefined ? undefined : new WatchFollower(options.watch, options.log);
  }

  /** Whether a watch is live now (synced on the current connection). */
  get watching(): boolean {
    return this.#follower?.live ?? false;
  }

  /** The replica in use (or being tried) now. */
  get address(): Endpoint {
    return this.addresses[this.#current] ?? this.addresses[0]!;
  }

  get isUp(): boolean {
    return this.#state === 'ready';
  }

  /** The words the discovery server in use listed in FEATURES: a verb is sent only if listed. */
  get features(): readonly string[] {
    return this.#features;
  }

  start(): void {
    if (this.#state !== 'idle') return;
    this.#connect();
    this.#heartbeat = setInterval(() => {
      if (this.#state !== 'ready') return;
      if (this.#timeToReturn()) return this.#moveTo(0, 'discovery-return');
      if (Date.now() - this.#lastWriteAt < HEARTBEAT_MS) return;
      this.request({ verb: 'PING' }).catch(() => undefined);
    }, HEARTBEAT_MS / 5);
    this.#heartbeat.unref();
  }

  request(request: DiscoveryRequest): Promise<DiscoveryReply> {
    if (this.#oneShot && this.#state === 'ready') return askDiscovery(this.address, request, { timeoutMs: this.#options.timeoutMs });
    // Requests wait for a connection attempt under way, but not for a backoff to pass.
    if (this.#state === 'closed' || this.#state === 'idle' || this.#state === 'down') {
      return Promise.reject(unreachable(`discovery at ${formatAddress(this.address)} is unreachable`));
    }
    return new Promise((resolve, reject) => {
      const pending: Pending = {
        request,
        line: formatDiscoveryRequest(request),
        verb: request.verb,
        reader: createDiscoveryReplyReader(request.verb),
        unavailable: 0,
        resolve,
        reject,
        timer: undefined,
      };
      pending.timer = setTimeout(() => this.#onTimeout(), this.#options.timeoutMs);
      this.#pending.push(pending);
      if (this.#state === 'ready') this.#write(pending.line);
    });
  }

  /** Stops reconnecting and fails what is pending. */
  close(): void {
    this.#state = 'closed';
    clearTimeout(this.#retryTimer);
    clearInterval(this.#heartbeat);
    this.#socket?.destroy();
    this.#socket = undefined;
    this.#failPending('the discovery client was closed');
  }

  #connect(): void {
    this.#state = 'connecting';
    this.#splitter = new LineSplitter();
    const socket = connect({ host: this.address.host, port: this.address.port, noDelay: true });
    this.#socket = socket;
    // Covers connect and the handshake: a stopped discovery accepts TCP but never answers.
    const connectTimer = setTimeout(() => socket.destroy(new Error('no handshake in time')), this.#options.timeoutMs);
    socket.on('connect', () => {
      this.#state = 'handshake';
      this.#lastWriteAt = Date.now();
      this.#handshake = { verb: 'FEATURES', reader: createDiscoveryReplyReader('FEATURES') };
      socket.write('FEATURES\n');
    });
    socket.on('data', (chunk: Buffer) => {
      for (const framed of this.#splitter.push(chunk)) {
        // A line may have made us leave this connection: the rest of it is not for us.
        if (this.#socket !== socket) return;
        if (framed.ok) this.#onLine(framed.line, connectTimer);
      }
    });
    socket.on('error', (error) => this.#log.debug('discovery-socket-error', { address: formatAddress(this.address), error: error.message }));
    socket.on('close', () => {
      clearTimeout(connectTimer);
      if (this.#socket !== socket) return;
      this.#socket = undefined;
      this.#onDisconnect();
    });
  }

  #onLine(line: string, connectTimer: NodeJS.Timeout): void {
    const handshake = this.#handshake;
    if (this.#state === 'handshake' && handshake) {
      // The reader skips a greeting some discovery servers send before the reply.
      const step = handshake.reader.push(line);
      if (!step.done) return;
      if (handshake.verb === 'FEATURES') this.#features = step.reply.kind === 'features' ? step.reply.features : [];
      if (handshake.verb === 'FEATURES' && step.reply.kind === 'features' && step.reply.features.includes('session')) {
        this.#handshake = { verb: 'SESSION', reader: createDiscoveryReplyReader('SESSION') };
        this.#socket?.write('SESSION\n');
        return;
      }
      clearTimeout(connectTimer);
      this.#handshake = undefined;
      // Without a session the server closes after its reply: ask it one request per connection.
      this.#oneShot = step.reply.kind !== 'session';
      if (this.#oneShot) this.#log.info('discovery-without-session', { address: formatAddress(this.address), note: 'one request per connection' });
      this.#onReady();
      return;
    }
    const taken = this.#follower?.take(line) ?? 'not-mine';
    if (taken === 'taken') return;
    if (taken === 'resync') {
      // A change was lost: a new connection resumes from the last one applied.
      this.#socket?.destroy();
      return;
    }
    const head = this.#pending[0];
    if (!head) {
      this.#log.warn('discovery-unexpected-line', { line: line.slice(0, 80) });
      return;
    }
    const step = head.reader.push(line);
    if (!step.done) return;
    if (isUnavailable(step.reply) && this.addresses.length > 1 && ++head.unavailable < this.addresses.length) {
      // This replica cannot reach the shared registry; another may. Everything pending goes there.
      this.#moveTo((this.#current + 1) % this.addresses.length, 'discovery-replica-unavailable');
      return;
    }
    this.#pending.shift();
    clearTimeout(head.timer);
    head.resolve(step.reply);
  }

  #onReady(): void {
    this.#state = 'ready';
    this.#backoffMs = BACKOFF_MIN_MS;
    this.#failedInRow = 0;
    if (this.#lastReady !== undefined && this.#lastReady !== this.address) {
      this.#log.info('discovery-failover', { from: formatAddress(this.#lastReady), to: formatAddress(this.address) });
    }
    this.#lastReady = this.address;
    if (this.#current === 0) this.#leftFirstAt = undefined;
    else this.#leftFirstAt ??= Date.now();
    if (this.#reportedDown) this.#log.info('discovery-back', { address: formatAddress(this.address) });
    else if (!this.#everUp) this.#log.info('discovery-connected', { address: formatAddress(this.address) });
    this.#everUp = true;
    this.#reportedDown = false;
    // The watch goes first: its snapshot is the reply before any other on this connection.
    const watchLine = this.#follower?.begin(this.#oneShot ? [] : this.#features) ?? '';
    if (this.#oneShot) {
      for (const pending of this.#pending.splice(0)) {
        clearTimeout(pending.timer);
        askDiscovery(this.address, pending.request, { timeoutMs: this.#options.timeoutMs }).then(pending.resolve, pending.reject);
      }
      return;
    }
    const lines = watchLine + this.#pending.map((pending) => pending.line).join('');
    if (lines) this.#write(lines);
  }

  #write(text: string): void {
    this.#lastWriteAt = Date.now();
    this.#socket?.write(text);
  }

  #onDisconnect(): void {
    this.#follower?.end();
    if (this.#state === 'closed') return;
    // A server without sessions closes after the handshake's reply: that is its way, not a failure.
    if (this.#oneShot && this.#state === 'ready') return;
    if (this.addresses.length > 1 && ++this.#failedInRow < this.addresses.length) {
      // Another replica may answer: try it at once. Requests in flight wait for it (each keeps
      // its own deadline) instead of failing; every discovery request is safe to send again.
      const from = this.address;
      this.#current = (this.#current + 1) % this.addresses.length;
      this.#log.warn('discovery-replica-unreachable', { address: formatAddress(from), trying: formatAddress(this.address) });
      for (const pending of this.#pending) pending.reader = createDiscoveryReplyReader(pending.verb);
      this.#connect();
      return;
    }
    if (this.addresses.length > 1) {
      this.#failedInRow = 0;
      this.#current = (this.#current + 1) % this.addresses.length;
    }
    this.#state = 'down';
    this.#options.watch?.unavailable?.();
    this.#failPending(`discovery at ${this.addresses.map(formatAddress).join(', ')} is unreachable`);
    if (!this.#reportedDown) {
      this.#reportedDown = true;
      this.#log.warn('discovery-unreachable', { address: formatAddress(this.address), note: this.#options.whileDown ?? 'reconnecting' });
    }
    this.#retryTimer = setTimeout(() => {
      if (this.#state !== 'closed') this.#connect();
    }, this.#backoffMs);
    this.#backoffMs = Math.min(this.#backoffMs * 2, BACKOFF_MAX_MS);
  }

  /** Off the first-listed replica for `returnAfterMs`, with nothing in flight to send again. */
  #timeToReturn(): boolean {
    const since = this.#leftFirstAt;
    return this.#current !== 0 && since !== undefined && this.#pending.length === 0 && Date.now() - since >= (this.#options.returnAfterMs ?? RETURN_AFTER_MS);
  }

  /**
   * Leaves the connection in use for replica `index`: what is pending is sent again there
   * (every discovery request is safe to send again). Unreachable, it fails over as usual.
   */
  #moveTo(index: number, event: 'discovery-return' | 'discovery-replica-unavailable'): void {
    const from = this.address;
    const socket = this.#socket;
    this.#socket = undefined;
    socket?.destroy();
    this.#current = index;
    this.#failedInRow = 0;
    this.#log[event === 'discovery-return' ? 'info' : 'warn'](event, { from: formatAddress(from), to: formatAddress(this.address) });
    for (const pending of this.#pending) pending.reader = createDiscoveryReplyReader(pending.verb);
    this.#connect();
  }

  #onTimeout(): void {
    // Replies come in order: once one is late, the rest cannot be matched. Start over.
    this.#log.warn('discovery-timeout', { address: formatAddress(this.address), timeoutMs: this.#options.timeoutMs });
    this.#failPending(`discovery at ${formatAddress(this.address)} did not answer within ${this.#options.timeoutMs}ms`);
    this.#socket?.destroy();
  }

  #failPending(reason: string): void {
    for (const pending of this.#pending.splice(0)) {
      clearTimeout(pending.timer);
      pending.reject(unreachable(reason));
    }
  }
}

function unreachable(reason: string): ServerError {
  return new ServerError('DISCOVERY_UNREACHABLE', reason);
}
