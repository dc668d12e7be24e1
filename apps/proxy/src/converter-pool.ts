import { type Endpoint, PERSIST, PERSIST_ACK, parseConversionReply, parseFailure, formatAddress } from '@conv/protocol';
import type { Logger } from '@conv/server';
import { LineConnection, type Read, openLineConnection } from './line-connection';
import type { ConverterPort, HopAttempt } from './router';

type Handoff = LineConnection | 'open' | 'timeout';

type EndpointState = {
  mode: 'unknown' | 'persistent' | 'one-shot';
  /** In one-shot mode: when to offer PERSIST again (a restarted or upgraded server may speak it). */
  persistRetryAt: number;
  /** Handshakes cut short (closed between greeting and `OK persistent`) in a row. */
  handshakeFailures: number;
  idle: LineConnection[];
  /** Persistent connections open or opening: bounded, so a burst of clients cannot exhaust the converter. */
  open: number;
  waiters: ((handoff: Handoff) => void)[];
  /** With pipelining: the connection that takes more requests while it has replies to come. */
  riding: LineConnection | undefined;
};

type Opened = { kind: 'persistent'; connection: LineConnection } | { kind: 'no-persist' } | { kind: 'handshake-failed' } | HopAttempt;

/** How long a converter that refused PERSIST is asked one request per connection before PERSIST is offered again. */
export const PERSIST_RETRY_MS = 30_000;
/** Handshakes closed halfway, in a row, that count as a refusal: a server that closes on an unknown line. */
const HANDSHAKE_FAILURES_TO_REFUSAL = 3;

/**
 * Connections to converters. Where a converter accepts `PERSIST`, the connections opened to an
 * endpoint (at most 64) are kept for reuse, so a hop costs no TCP handshake; servers that answer
 * PERSIST with anything else (seed-style servers) get one-shot exchanges, as the course's
 * clients do. Every attempt, connect included, has `hopTimeoutMs`: a stopped process accepts TCP
 * but never answers.
 *
 * A pooled connection is trusted only while its replies line up with its requests: one that
 * answers with something that is not a reply, or with more lines than it was asked for, is
 * destroyed, never reused. A refused PERSIST is offered again after `persistRetryMs`; a
 * handshake cut short by a close is tried again on the next request. With `pipelineDepth` over
 * 1, requests ride on a connection that has replies to come, up to that many at once.
 */
export class ConverterPool implements ConverterPort {
  readonly #endpoints = new Map<string, EndpointState>();
  readonly #hopTimeoutMs: number;
  readonly #log: Logger;
  #closed = false;

  readonly #maxOpen: number;
  readonly #persistRetryMs: number;
  readonly #pipelineDepth: number;
  /** Connections with requests to write at the end of this turn of the event loop. */
  readonly #unsent: LineConnection[] = [];

  constructor(options: { hopTimeoutMs: number; maxOpenPerEndpoint?: number; persistRetryMs?: number; pipelineDepth?: number; log: Logger }) {
    this.#hopTimeoutMs = options.hopTimeoutMs;
    this.#pipelineDepth = options.pipelineDepth ?? 1;
    this.#persistRetryMs = options.persistRetryMs ?? PERSIST_RETRY_MS;
    this.#maxOpen = options.maxOpenPerEndpoint ?? 64;
    this.#log = options.log;
  }

  async convert(endpoint: Endpoint, requestLine: string): Promise<HopAttempt> {
    const deadline = Date.now() + this.#hopTimeoutMs;
    const state = this.#state(endpoint);
    if (state.mode === 'one-shot' && Date.now() >= state.persistRetryAt) state.mode = 'unknown';
    if (state.mode !== 'one-shot') {
      for (;;) {
        let pooled: LineConnection | undefined;
        let reading: Promise<Read>;
        const riding = state.riding;
        if (riding && riding.inFlight < this.#pipelineDepth && !riding.closed) {
          // Requests joining one already sent go out together, in one write at the end of this turn.
          if (riding.unsent === '' && this.#unsent.push(riding) === 1) setImmediate(() => this.#writeUnsent());
          riding.unsent += requestLine;
          pooled = riding;
          reading = this.#read(riding, deadline);
        } else {
          pooled = state.idle.pop();
          if (!pooled && state.open >= this.#maxOpen) {
            const handoff = await this.#wait(state, deadline);
            if (handoff === 'timeout') {
              return { kind: 'busy', reason: `all ${this.#maxOpen} connections to ${formatAddress(endpoint)} stayed busy for ${this.#hopTimeoutMs}ms` };
            }
            if (handoff !== 'open') pooled = handoff;
          }
          if (!pooled) break;
          pooled.onUnsolicited = undefined;
          reading = this.#ask(state, pooled, requestLine, deadline);
        }
        const reply = await reading;
        if (reply.kind === 'line') {
          this.#settle(state, pooled, reply.line, endpoint);
          return reply;
        }
        pooled.destroy();
        if (reply.kind === 'timeout') return this.#late(endpoint);
        // The server closed this idle connection as we used it (its idle timeout), or a request
        // sent with ours timed out: try a fresh one.
      }
      const opened = await this.#openPersistent(endpoint, deadline, state);
      switch (opened.kind) {
        case 'persistent': {
          state.mode = 'persistent';
          state.handshakeFailures = 0;
          const reply = await this.#ask(state, opened.connection, requestLine, deadline);
          if (reply.kind === 'line') {
            this.#settle(state, opened.connection, reply.line, endpoint);
            return reply;
          }
          opened.connection.destroy();
          return reply.kind === 'timeout' ? this.#late(endpoint) : { kind: 'dead', reason: closedReason(reply.error) };
        }
        case 'handshake-failed':
          // One close at the wrong moment says nothing about the server: this request goes
          // one-shot, the next one offers PERSIST again (unless it keeps happening).
          if (++state.handshakeFailures < HANDSHAKE_FAILURES_TO_REFUSAL) {
            this.#log.info('converter-handshake-failed', { endpoint: formatAddress(endpoint), note: 'closed before OK persistent; PERSIST is offered again next time' });
            break;
          }
          this.#oneShotFor(state, endpoint, `closed ${state.handshakeFailures} PERSIST handshakes in a row`);
          break;
        case 'no-persist':
          this.#oneShotFor(state, endpoint, 'does not speak PERSIST');
          break;
        case 'line':
        case 'dead':
        case 'busy':
          return opened;
      }
    }
    return this.#oneShot(endpoint, requestLine, deadline);
  }

  #oneShotFor(state: EndpointState, endpoint: Endpoint, note: string): void {
    state.mode = 'one-shot';
    state.handshakeFailures = 0;
    state.persistRetryAt = Date.now() + this.#persistRetryMs;
    this.#log.info('converter-one-shot', { endpoint: formatAddress(endpoint), note, persistAgainInMs: this.#persistRetryMs });
  }

  /**
   * After a reply on a persistent connection: back to the pool, once every request sent on it
   * has its reply, only if each reply is one and nothing more came; otherwise later replies
   * would answer earlier requests. (With pipelining an extra line can only be told once the
   * last rider has read: it would have gone to a rider first. Hence pipelining is opt-in.)
   */
  #settle(state: EndpointState, connection: LineConnection, line: string, endpoint: Endpoint): void {
    connection.inFlight--;
    const wrong = !parseConversionReply(line).ok ? 'not a reply' : connection.inFlight === 0 && connection.buffered > 0 ? 'more lines than requests' : undefined;
    if (wrong === undefined) {
      // A pipelined connection goes back when its last reply is in.
      if (connection.inFlight > 0) return;
      if (state.riding === connection) state.riding = undefined;
      this.#release(state, connection);
      return;
    }
    this.#log.warn('converter-connection-dropped', { endpoint: formatAddress(endpoint), reason: wrong, line: line.slice(0, 80) });
    // Its close hands the room it held to a waiter (see #openPersistent).
    connection.destroy();
  }

  /** Closes every idle connection; connections in use close when their answer comes. */
  close(): void {
    this.#closed = true;
    for (const state of this.#endpoints.values()) for (const connection of state.idle.splice(0)) connection.destroy();
  }

  #state(endpoint: Endpoint): EndpointState {
    const key = formatAddress(endpoint);
    let state = this.#endpoints.get(key);
    if (!state) {
      state = { mode: 'unknown', persistRetryAt: 0, handshakeFailures: 0, idle: [], open: 0, waiters: [], riding: undefined };
      this.#endpoints.set(key, state);
    }
    return state;
  }

  /** Sends on a pooled connection, at once; with pipelining, the requests that follow may join it. */
  #ask(state: EndpointState, connection: LineConnection, requestLine: string, deadline: number): Promise<Read> {
    if (this.#pipelineDepth > 1) state.riding = connection;
    return this.#read(connection, deadline, requestLine);
  }

  /** Expects one more reply on the connection; writes the request line first when one is given. */
  #read(connection: LineConnection, deadline: number, requestLine?: string): Promise<Read> {
    connection.inFlight++;
    if (requestLine !== undefined) connection.socket.write(requestLine);
    return connection.next(deadline);
  }

  #writeUnsent(): void {
    for (const connection of this.#unsent.splice(0)) {
      const text = connection.unsent;
      connection.unsent = '';
      if (!connection.closed) connection.socket.write(text);
    }
  }

  /** Waits for a connection to be handed over, or for room to open one, until the deadline. */
  #wait(state: EndpointState, deadline: number): Promise<Handoff> {
    return new Promise((resolve) => {
      const waiter = (handoff: Handoff) => {
        clearTimeout(timer);
        resolve(handoff);
      };
      const timer = setTimeout(() => {
        state.waiters.splice(state.waiters.indexOf(waiter), 1);
        resolve('timeout');
      }, Math.max(0, deadline - Date.now()));
      state.waiters.push(waiter);
    });
  }

  #release(state: EndpointState, connection: LineConnection): void {
    const waiter = !this.#closed && !connection.closed ? state.waiters.shift() : undefined;
    if (waiter) {
      waiter(connection);
      return;
    }
    // Every connection opened stays for reuse (`#maxOpen` bounds them): closing the ones over an
    // idle cap after a burst made a proxy under steady load reconnect (connect, greeting,
    // PERSIST) for the next one. The converter's idle timeout closes what stays unused.
    if (this.#closed || connection.closed) {
      connection.destroy();
      return;
    }
    connection.onUnsolicited = () => {
      // An idle connection that talks or closes is of no further use (idle timeout, restart).
      const index = state.idle.indexOf(connection);
      if (index >= 0) state.idle.splice(index, 1);
      connection.destroy();
    };
    state.idle.push(connection);
  }

  async #openPersistent(endpoint: Endpoint, deadline: number, state: EndpointState): Promise<Opened> {
    state.open++;
    const connection = await openLineConnection(endpoint, deadline, () => {
      state.open--;
      state.waiters.shift()?.('open');
    });
    if (!(connection instanceof LineConnection)) return { kind: 'dead', reason: `connect failed: ${connection.error}` };
    connection.socket.write(`${PERSIST}\n`);
    const first = await connection.next(deadline);
    if (first.kind !== 'line') {
      connection.destroy();
      return first.kind === 'timeout' ? this.#late(endpoint) : { kind: 'dead', reason: closedReason(first.error) };
    }
    if (first.line.trim() === PERSIST_ACK) return { kind: 'persistent', connection };
    // A converter at its connection limit says so instead of greeting.
    if (parseFailure(first.line)?.code === 'TOO_MANY_CONNECTIONS') {
      connection.destroy();
      return { kind: 'line', line: first.line };
    }
    const second = await connection.next(deadline);
    if (second.kind === 'line' && second.line.trim() === PERSIST_ACK) return { kind: 'persistent', connection };
    connection.destroy();
    if (second.kind === 'timeout') return this.#late(endpoint);
    if (second.kind === 'closed') return { kind: 'handshake-failed' };
    // It greeted, then answered PERSIST with something else: a course-style server; ask it one request at a time.
    return { kind: 'no-persist' };
  }

  async #oneShot(endpoint: Endpoint, requestLine: string, deadline: number): Promise<HopAttempt> {
    const connection = await openLineConnection(endpoint, deadline);
    if (!(connection instanceof LineConnection)) return { kind: 'dead', reason: `connect failed: ${connection.error}` };
    try {
      // The request goes out with the connect: course servers greet first and then read it.
      connection.socket.write(requestLine);
      const first = await connection.next(deadline);
      if (first.kind === 'timeout') return this.#late(endpoint);
      if (first.kind === 'closed') return { kind: 'dead', reason: closedReason(first.error) };
      const second = await connection.next(deadline);
      if (second.kind === 'line') return second;
      if (second.kind === 'timeout') return this.#late(endpoint);
      // One line, then close: a server without greeting, or one refusing the connection.
      return parseConversionReply(first.line).ok ? first : { kind: 'dead', reason: closedReason(second.error) };
    } finally {
      connection.destroy();
    }
  }

  #late(endpoint: Endpoint): HopAttempt {
    return { kind: 'dead', reason: `no answer from ${formatAddress(endpoint)} within ${this.#hopTimeoutMs}ms` };
  }
}

function closedReason(error: string | undefined): string {
  return error ? `connection failed: ${error}` : 'closed without answering';
}
