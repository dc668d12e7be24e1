import { type Socket, connect } from 'node:net';
import {
  type DiscoveryReply,
  type DiscoveryReplyReader,
  type DiscoveryRequest,
  type Endpoint,
  LineSplitter,
  createDiscoveryReplyReader,
  formatDiscoveryRequest,
  tokenize,
} from '@conv/protocol';
import { formatAddress } from './config';
import type { Logger } from '@conv/observability';
import type { DiscoveryPort } from './router';

/** Discovery could not be asked: not connected, the connection dropped, or no reply in time. */
export class DiscoveryUnavailable extends Error {
  override readonly name = 'DiscoveryUnavailable';
}

type Pending = {
  readonly line: string;
  readonly verb: DiscoveryRequest['verb'];
  /** Replaced when the request is sent again to another replica. */
  reader: DiscoveryReplyReader;
  readonly resolve: (reply: DiscoveryReply) => void;
  readonly reject: (error: Error) => void;
  timer: NodeJS.Timeout | undefined;
};

type State = 'idle' | 'connecting' | 'handshake' | 'ready' | 'down' | 'closed';

const BACKOFF_MIN_MS = 50;
const BACKOFF_MAX_MS = 1000;
/** A quiet connection sends PING this often: discovery closes idle connections, and a stopped one must be noticed. */
const HEARTBEAT_MS = 5000;

/**
 * One persistent, pipelined connection to the discovery server: requests are written as they
 * come, replies are matched to them in order. Reconnects by itself with backoff. A connection
 * counts as up once discovery answers PING (which also skips a greeting, if it sends one).
 * Requests made while a connection attempt is under way wait for it; requests made while
 * discovery is known to be down fail at once, so the proxy can answer from its cache.
 */
export class DiscoveryClient implements DiscoveryPort {
  /** Discovery replicas sharing one registry (or just one server), tried in turn. */
  readonly addresses: readonly Endpoint[];
  #current = 0;
  /** Connection attempts failed since the last one that reached PONG. */
  #failedInRow = 0;
  #lastReady: Endpoint | undefined;
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
  readonly #timeoutMs: number;
  readonly #log: Logger;
  readonly #staleTtlMs: number;

  constructor(options: { addresses: readonly Endpoint[]; timeoutMs: number; staleTtlMs: number; log: Logger }) {
    if (options.addresses.length === 0) throw new Error('DiscoveryClient needs at least one address');
    this.addresses = options.addresses;
    this.#timeoutMs = options.timeoutMs;
    this.#staleTtlMs = options.staleTtlMs;
    this.#log = options.log;
  }

  /** The replica in use (or being tried) now. */
  get address(): Endpoint {
    return this.addresses[this.#current] ?? this.addresses[0]!;
  }

  get isUp(): boolean {
    return this.#state === 'ready';
  }

  start(): void {
    if (this.#state !== 'idle') return;
    this.#connect();
    this.#heartbeat = setInterval(() => {
      if (this.#state !== 'ready' || Date.now() - this.#lastWriteAt < HEARTBEAT_MS) return;
      this.request({ verb: 'PING' }).catch(() => undefined);
    }, HEARTBEAT_MS / 5);
    this.#heartbeat.unref();
  }

  request(request: DiscoveryRequest): Promise<DiscoveryReply> {
    // Requests wait for a connection attempt under way, but not for a backoff to pass.
    if (this.#state === 'closed' || this.#state === 'idle' || this.#state === 'down') {
      return Promise.reject(new DiscoveryUnavailable(`discovery at ${formatAddress(this.address)} is unreachable`));
    }
    return new Promise((resolve, reject) => {
      const pending: Pending = {
        line: formatDiscoveryRequest(request),
        verb: request.verb,
        reader: createDiscoveryReplyReader(request.verb),
        resolve,
        reject,
        timer: undefined,
      };
      pending.timer = setTimeout(() => this.#onTimeout(), this.#timeoutMs);
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
    this.#failPending('discovery client closed');
  }

  #connect(): void {
    this.#state = 'connecting';
    this.#splitter = new LineSplitter();
    const socket = connect({ host: this.address.host, port: this.address.port, noDelay: true });
    this.#socket = socket;
    // Covers connect and the PING handshake: a stopped discovery accepts TCP but never answers.
    const connectTimer = setTimeout(() => socket.destroy(new Error('no PONG in time')), this.#timeoutMs);
    socket.on('connect', () => {
      this.#state = 'handshake';
      this.#lastWriteAt = Date.now();
      socket.write('PING\n');
    });
    socket.on('data', (chunk: Buffer) => {
      for (const framed of this.#splitter.push(chunk)) {
        if (framed.ok) this.#onLine(framed.line, connectTimer);
      }
    });
    socket.on('error', (error) => this.#log.debug('discovery.socket-error', { address: formatAddress(this.address), error: error.message }));
    socket.on('close', () => {
      clearTimeout(connectTimer);
      if (this.#socket !== socket) return;
      this.#socket = undefined;
      this.#onDisconnect();
    });
  }

  #onLine(line: string, connectTimer: NodeJS.Timeout): void {
    if (this.#state === 'handshake') {
      // Anything before PONG is a greeting some discovery servers send; skip it.
      if (tokenize(line)[0]?.toUpperCase() !== 'PONG') return;
      clearTimeout(connectTimer);
      this.#onReady();
      return;
    }
    const head = this.#pending[0];
    if (!head) {
      this.#log.warn('discovery.unexpected-line', { line: line.slice(0, 80) });
      return;
    }
    const step = head.reader.push(line);
    if (!step.done) return;
    this.#pending.shift();
    clearTimeout(head.timer);
    head.resolve(step.reply);
  }

  #onReady(): void {
    this.#state = 'ready';
    this.#backoffMs = BACKOFF_MIN_MS;
    this.#failedInRow = 0;
    if (this.#lastReady !== undefined && this.#lastReady !== this.address) {
      this.#log.info('discovery.failover', { from: formatAddress(this.#lastReady), to: formatAddress(this.address) });
    }
    this.#lastReady = this.address;
    if (this.#reportedDown) {
      this.#log.info('discovery.back', { address: formatAddress(this.address), note: 'paths come from discovery again' });
    } else if (!this.#everUp) {
      this.#log.info('discovery.connected', { address: formatAddress(this.address) });
    }
    this.#everUp = true;
    this.#reportedDown = false;
    const lines = this.#pending.map((pending) => pending.line).join('');
    if (lines) this.#write(lines);
  }

  #write(text: string): void {
    this.#lastWriteAt = Date.now();
    this.#socket?.write(text);
  }

  #onDisconnect(): void {
    if (this.#state === 'closed') return;
    if (this.addresses.length > 1 && ++this.#failedInRow < this.addresses.length) {
      // Another replica may answer: try it at once. Requests in flight wait for it (each keeps
      // its own deadline) instead of failing; every discovery request is safe to send again.
      const from = this.address;
      this.#current = (this.#current + 1) % this.addresses.length;
      this.#log.warn('discovery.replica-unreachable', { address: formatAddress(from), trying: formatAddress(this.address) });
      for (const pending of this.#pending) pending.reader = createDiscoveryReplyReader(pending.verb);
      this.#connect();
      return;
    }
    if (this.addresses.length > 1) {
      this.#failedInRow = 0;
      this.#current = (this.#current + 1) % this.addresses.length;
    }
    this.#state = 'down';
    this.#failPending(`discovery at ${this.addresses.map(formatAddress).join(', ')} is unreachable`);
    if (!this.#reportedDown) {
      this.#reportedDown = true;
      this.#log.warn('discovery.unreachable', {
        address: formatAddress(this.address),
        note: `serving from cached paths up to ${this.#staleTtlMs}ms old; reconnecting`,
      });
    }
    this.#retryTimer = setTimeout(() => {
      if (this.#state !== 'closed') this.#connect();
    }, this.#backoffMs);
    this.#backoffMs = Math.min(this.#backoffMs * 2, BACKOFF_MAX_MS);
  }

  #onTimeout(): void {
    // Replies come in order: once one is late, the rest cannot be matched. Start over.
    this.#log.warn('discovery.timeout', { address: formatAddress(this.address), timeoutMs: this.#timeoutMs });
    this.#failPending(`discovery at ${formatAddress(this.address)} did not answer within ${this.#timeoutMs}ms`);
    this.#socket?.destroy();
  }

  #failPending(reason: string): void {
    for (const pending of this.#pending.splice(0)) {
      clearTimeout(pending.timer);
      pending.reject(new DiscoveryUnavailable(reason));
    }
  }
}
