import { type Socket, connect } from 'node:net';
import {
  type Endpoint,
  LineSplitter,
  PERSIST,
  PERSIST_ACK,
  parseConversionReply,
  parseFailure,
  formatAddress,
} from '@conv/protocol';
import { endpointKey } from './endpoint-book';
import type { Logger } from '@conv/server';
import type { ConverterPort, HopAttempt } from './router';

type Read = { kind: 'line'; line: string } | { kind: 'closed'; error?: string } | { kind: 'timeout' };

/** A socket read line by line, with a deadline per read. */
class LineConnection {
  readonly #lines: string[] = [];
  readonly #splitter = new LineSplitter();
  #closed = false;
  #error: string | undefined;
  #wake: (() => void) | undefined;
  /** Called when the connection dies or talks while nobody is waiting (an idle pooled connection). */
  onUnsolicited: (() => void) | undefined;

  constructor(readonly socket: Socket) {
    socket.on('data', (chunk: Buffer) => {
      for (const framed of this.#splitter.push(chunk)) {
        // A reply line we refuse (too long, not UTF-8) is garbage: it can never parse as an answer.
        this.#lines.push(framed.ok ? framed.line : `<${framed.failure.code}>`);
      }
      this.#notify();
    });
    socket.on('error', (error: NodeJS.ErrnoException) => {
      this.#error = error.code ?? error.message;
    });
    socket.on('close', () => {
      this.#closed = true;
      this.#notify();
    });
  }

  get closed(): boolean {
    return this.#closed;
  }

  next(deadline: number): Promise<Read> {
    const line = this.#lines.shift();
    if (line !== undefined) return Promise.resolve({ kind: 'line', line });
    if (this.#closed) return Promise.resolve({ kind: 'closed', ...(this.#error ? { error: this.#error } : {}) });
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.#wake = undefined;
        resolve({ kind: 'timeout' });
      }, Math.max(0, deadline - Date.now()));
      this.#wake = () => {
        clearTimeout(timer);
        this.#wake = undefined;
        resolve(this.next(deadline));
      };
    });
  }

  destroy(): void {
    this.onUnsolicited = undefined;
    this.socket.destroy();
  }

  #notify(): void {
    if (this.#wake) this.#wake();
    else this.onUnsolicited?.();
  }
}

function open(endpoint: Endpoint, deadline: number, onClose?: () => void): Promise<LineConnection | { error: string }> {
  return new Promise((resolve) => {
    const socket = connect({ host: endpoint.host, port: endpoint.port, noDelay: true });
    if (onClose) socket.once('close', onClose);
    const connection = new LineConnection(socket);
    const timer = setTimeout(() => {
      socket.destroy();
      resolve({ error: 'connect timed out' });
    }, Math.max(0, deadline - Date.now()));
    socket.once('connect', () => {
      clearTimeout(timer);
      resolve(connection);
    });
    socket.once('error', (error: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      resolve({ error: error.code ?? error.message });
    });
  });
}

type Handoff = LineConnection | 'open' | 'timeout';

type EndpointState = {
  mode: 'unknown' | 'persistent' | 'one-shot';
  idle: LineConnection[];
  /** Persistent connections open or opening: bounded, so a burst of clients cannot exhaust the converter. */
  open: number;
  waiters: ((handoff: Handoff) => void)[];
};

type Opened = { kind: 'persistent'; connection: LineConnection } | { kind: 'no-persist' } | HopAttempt;

/**
 * Connections to converters. Where a converter accepts `PERSIST`, a few idle connections per
 * endpoint are kept so a hop costs no TCP handshake; servers that answer PERSIST with anything
 * else (seed-style servers) get one-shot exchanges, as the course's clients do. Every attempt,
 * connect included, has `hopTimeoutMs`: a stopped process accepts TCP but never answers.
 */
export class ConverterPool implements ConverterPort {
  readonly #endpoints = new Map<string, EndpointState>();
  readonly #hopTimeoutMs: number;
  readonly #maxIdle: number;
  readonly #log: Logger;
  #closed = false;

  readonly #maxOpen: number;

  constructor(options: { hopTimeoutMs: number; maxIdlePerEndpoint?: number; maxOpenPerEndpoint?: number; log: Logger }) {
    this.#hopTimeoutMs = options.hopTimeoutMs;
    this.#maxIdle = options.maxIdlePerEndpoint ?? 16;
    this.#maxOpen = options.maxOpenPerEndpoint ?? 64;
    this.#log = options.log;
  }

  async convert(endpoint: Endpoint, requestLine: string): Promise<HopAttempt> {
    const deadline = Date.now() + this.#hopTimeoutMs;
    const state = this.#state(endpoint);
    if (state.mode !== 'one-shot') {
      for (;;) {
        let pooled = state.idle.pop();
        if (!pooled && state.open >= this.#maxOpen) {
          const handoff = await this.#wait(state, deadline);
          if (handoff === 'timeout') {
            return { kind: 'busy', reason: `all ${this.#maxOpen} connections to ${formatAddress(endpoint)} stayed busy for ${this.#hopTimeoutMs}ms` };
          }
          if (handoff !== 'open') pooled = handoff;
        }
        if (!pooled) break;
        pooled.onUnsolicited = undefined;
        const reply = await this.#ask(pooled, requestLine, deadline);
        if (reply.kind === 'line') {
          this.#release(state, pooled);
          return reply;
        }
        pooled.destroy();
        if (reply.kind === 'timeout') return this.#late(endpoint);
        // The server closed this idle connection as we used it (its idle timeout): try a fresh one.
      }
      const opened = await this.#openPersistent(endpoint, deadline, state);
      switch (opened.kind) {
        case 'persistent': {
          state.mode = 'persistent';
          const reply = await this.#ask(opened.connection, requestLine, deadline);
          if (reply.kind === 'line') {
            this.#release(state, opened.connection);
            return reply;
          }
          opened.connection.destroy();
          return reply.kind === 'timeout' ? this.#late(endpoint) : { kind: 'dead', reason: closedReason(reply.error) };
        }
        case 'no-persist':
          state.mode = 'one-shot';
          this.#log.info('converter-one-shot', { endpoint: formatAddress(endpoint), note: 'does not speak PERSIST' });
          break;
        case 'line':
        case 'dead':
        case 'busy':
          return opened;
      }
    }
    return this.#oneShot(endpoint, requestLine, deadline);
  }

  /** Closes every idle connection; connections in use close when their answer comes. */
  close(): void {
    this.#closed = true;
    for (const state of this.#endpoints.values()) for (const connection of state.idle.splice(0)) connection.destroy();
  }

  #state(endpoint: Endpoint): EndpointState {
    const key = endpointKey(endpoint);
    let state = this.#endpoints.get(key);
    if (!state) {
      state = { mode: 'unknown', idle: [], open: 0, waiters: [] };
      this.#endpoints.set(key, state);
    }
    return state;
  }

  async #ask(connection: LineConnection, requestLine: string, deadline: number): Promise<Read> {
    connection.socket.write(requestLine);
    return connection.next(deadline);
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
    if (this.#closed || connection.closed || state.idle.length >= this.#maxIdle) {
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
    const connection = await open(endpoint, deadline, () => {
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
    // It greeted, then refused or ignored PERSIST: a course-style server; ask it one request at a time.
    return { kind: 'no-persist' };
  }

  async #oneShot(endpoint: Endpoint, requestLine: string, deadline: number): Promise<HopAttempt> {
    const connection = await open(endpoint, deadline);
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
