import { type Endpoint, PERSIST, PERSIST_ACK, PERSIST_TAGGED, PERSIST_TAGGED_ACK, formatAddress, parseConversionReply, parseFailure, splitTag } from '@conv/protocol';
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
  /** When to ask `PERSIST TAGGED` again after a refusal (until then, plain `PERSIST`). */
  tagsRetryAt: number;
  idle: LineConnection[];
  /** Persistent connections open or opening: bounded, so a burst of clients cannot exhaust the converter. */
  open: number;
  waiters: ((handoff: Handoff) => void)[];
  /** With pipelining: the connection that takes more requests while it has replies to come. */
  riding: LineConnection | undefined;
};

type Opened = { kind: 'persistent'; connection: LineConnection } | { kind: 'no-persist' } | { kind: 'tags-refused' } | { kind: 'handshake-failed' } | HopAttempt;

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
 * answers with something that is not a reply, with more lines than it was asked for, or (tagged)
 * with a tag other than the one the next reply must carry, is destroyed, never reused. The
 * handshake asks `PERSIST TAGGED` first, then plain `PERSIST` of a server that refuses it (conv's
 * converters before tags); refusals are asked again after `persistRetryMs`, and a handshake cut
 * short by a close is tried again on the next request. With `pipelineDepth` over 1, requests
 * ride on a tagged connection that has replies to come, up to that many at once: each reply
 * names its request, so a converter that answers one twice is caught at the next reply.
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
        let tag: string | undefined;
        const riding = state.riding;
        if (riding && riding.inFlight < this.#pipelineDepth && !riding.closed) {
          // Requests joining one already sent go out together, in one write at the end of this turn.
          if (riding.unsent === '' && this.#unsent.push(riding) === 1) setImmediate(() => this.#writeUnsent());
          tag = riding.nextTag();
          riding.unsent += `${tag} ${requestLine}`;
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
          tag = pooled.tagged ? pooled.nextTag() : undefined;
          reading = this.#ask(state, pooled, tag, requestLine, deadline);
        }
        const reply = await reading;
        if (reply.kind === 'line') return this.#settle(state, pooled, reply.line, endpoint, tag);
        pooled.destroy();
        if (reply.kind === 'timeout') return this.#late(endpoint);
        // The server closed this idle connection as we used it (its idle timeout), or a request
        // sent with ours timed out: try a fresh one.
      }
      let opened = await this.#openPersistent(endpoint, deadline, state);
      if (opened.kind === 'tags-refused') {
        this.#log.info('converter-untagged', { endpoint: formatAddress(endpoint), note: 'refused PERSIST TAGGED: plain PERSIST, no pipelining', tagsAgainInMs: this.#persistRetryMs });
        opened = await this.#openPersistent(endpoint, deadline, state);
      }
      switch (opened.kind) {
        case 'persistent': {
          state.mode = 'persistent';
          state.handshakeFailures = 0;
          const { connection } = opened;
          const tag = connection.tagged ? connection.nextTag() : undefined;
          const reply = await this.#ask(state, connection, tag, requestLine, deadline);
          if (reply.kind === 'line') return this.#settle(state, connection, reply.line, endpoint, tag);
          connection.destroy();
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
        case 'tags-refused':
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
   * After a reply on a persistent connection: the reply to hand back. The connection goes back to
   * the pool, once every request sent on it has its reply, only if each reply is one, carries its
   * request's tag (tagged connections) and nothing more came; otherwise later replies would
   * answer earlier requests. A reply with another request's tag answers nothing: the hop fails
   * over, and the requests riding with it ask again on a fresh connection.
   */
  #settle(state: EndpointState, connection: LineConnection, line: string, endpoint: Endpoint, tag: string | undefined): HopAttempt {
    connection.inFlight--;
    let reply = line;
    let outOfTurn: string | undefined;
    if (tag !== undefined) {
      const split = splitTag(line);
      if (split.tag === tag) reply = split.rest;
      else outOfTurn = split.tag === undefined ? `answered ${tag} without its tag` : `answered ${split.tag} when ${tag} was due`;
    }
    const wrong = outOfTurn ?? (!parseConversionReply(reply).ok ? 'not a reply' : connection.inFlight === 0 && connection.buffered > 0 ? 'more lines than requests' : undefined);
    if (wrong === undefined) {
      // A pipelined connection goes back when its last reply is in.
      if (connection.inFlight === 0) {
        if (state.riding === connection) state.riding = undefined;
        this.#release(state, connection);
      }
      return { kind: 'line', line: reply };
    }
    this.#log.warn('converter-connection-dropped', { endpoint: formatAddress(endpoint), reason: wrong, line: line.slice(0, 80) });
    // Its close hands the room it held to a waiter (see #openPersistent).
    connection.destroy();
    return outOfTurn === undefined ? { kind: 'line', line: reply } : { kind: 'dead', reason: `${formatAddress(endpoint)} ${outOfTurn}` };
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
      state = { mode: 'unknown', persistRetryAt: 0, handshakeFailures: 0, tagsRetryAt: 0, idle: [], open: 0, waiters: [], riding: undefined };
      this.#endpoints.set(key, state);
    }
    return state;
  }

  /** Sends on a pooled connection, at once; with pipelining, the requests that follow may join it. */
  #ask(state: EndpointState, connection: LineConnection, tag: string | undefined, requestLine: string, deadline: number): Promise<Read> {
    if (tag !== undefined && this.#pipelineDepth > 1) state.riding = connection;
    return this.#read(connection, deadline, tag === undefined ? requestLine : `${tag} ${requestLine}`);
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
    const askTags = Date.now() >= state.tagsRetryAt;
    connection.socket.write(`${askTags ? PERSIST_TAGGED : PERSIST}\n`);
    const acknowledged = (line: string): boolean => {
      const ack = line.trim();
      connection.tagged = ack === PERSIST_TAGGED_ACK;
      return connection.tagged || ack === PERSIST_ACK;
    };
    const first = await connection.next(deadline);
    if (first.kind !== 'line') {
      connection.destroy();
      return first.kind === 'timeout' ? this.#late(endpoint) : { kind: 'dead', reason: closedReason(first.error) };
    }
    if (acknowledged(first.line)) return { kind: 'persistent', connection };
    // A converter at its connection limit says so instead of greeting.
    if (parseFailure(first.line)?.code === 'TOO_MANY_CONNECTIONS') {
      connection.destroy();
      return { kind: 'line', line: first.line };
    }
    const second = await connection.next(deadline);
    if (second.kind === 'line' && acknowledged(second.line)) return { kind: 'persistent', connection };
    connection.destroy();
    if (second.kind === 'timeout') return this.#late(endpoint);
    if (second.kind === 'closed') return { kind: 'handshake-failed' };
    if (askTags) {
      // A converter from before tags answers FAILURE: ask it plain PERSIST (the caller does, at once).
      state.tagsRetryAt = Date.now() + this.#persistRetryMs;
      return { kind: 'tags-refused' };
    }
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
