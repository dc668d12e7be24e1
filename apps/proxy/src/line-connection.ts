import { type Socket, connect } from 'node:net';
import { type Endpoint, LineSplitter } from '@conv/protocol';

export type Read = { kind: 'line'; line: string } | { kind: 'closed'; error?: string } | { kind: 'timeout' };

type Reader = { resolve: (read: Read) => void; timer: NodeJS.Timeout };

/**
 * A socket read line by line, with a deadline per read. Reads queue: several requests sent
 * together (pipelined) each read their own reply, in the order they were sent.
 */
export class LineConnection {
  readonly #lines: string[] = [];
  readonly #readers: Reader[] = [];
  readonly #splitter = new LineSplitter();
  #closed = false;
  #error: string | undefined;
  /** Requests sent on this connection (or about to be) and not answered yet. */
  inFlight = 0;
  /** Pipelined requests to write at the end of this turn. */
  unsent = '';
  /** Acknowledged `PERSIST TAGGED`: each reply starts with its request's tag. */
  tagged = false;
  #tags = 0;
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

  /** Closed, or destroyed by us (its close event comes later). */
  get closed(): boolean {
    return this.#closed || this.socket.destroyed;
  }

  /** Lines received and not read yet. */
  get buffered(): number {
    return this.#lines.length;
  }

  next(deadline: number): Promise<Read> {
    if (this.#readers.length === 0) {
      const line = this.#lines.shift();
      if (line !== undefined) return Promise.resolve({ kind: 'line', line });
    }
    if (this.#closed) return Promise.resolve(this.#closedRead());
    return new Promise((resolve) => {
      const reader: Reader = {
        resolve,
        timer: setTimeout(() => {
          this.#readers.splice(this.#readers.indexOf(reader), 1);
          resolve({ kind: 'timeout' });
        }, Math.max(0, deadline - Date.now())),
      };
      this.#readers.push(reader);
    });
  }

  /** The tag for the next request sent on this connection. */
  nextTag(): string {
    return `#${(this.#tags++).toString(36)}`;
  }

  destroy(): void {
    this.onUnsolicited = undefined;
    this.socket.destroy();
  }

  #notify(): void {
    if (this.#readers.length === 0) {
      this.onUnsolicited?.();
      return;
    }
    for (let reader = this.#readers[0]; reader !== undefined; reader = this.#readers[0]) {
      const line = this.#lines.shift();
      if (line === undefined && !this.#closed) return;
      this.#readers.shift();
      clearTimeout(reader.timer);
      reader.resolve(line === undefined ? this.#closedRead() : { kind: 'line', line });
    }
  }

  #closedRead(): Read {
    return { kind: 'closed', ...(this.#error ? { error: this.#error } : {}) };
  }
}

/** Connects within the deadline; `onClose` runs when the socket closes, whatever happened. */
export function openLineConnection(endpoint: Endpoint, deadline: number, onClose?: () => void): Promise<LineConnection | { error: string }> {
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
