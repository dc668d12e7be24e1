import { type AddressInfo, type Server, type Socket, createServer } from 'node:net';
import { type FramedLine, LineSplitter, failure, formatFailure } from '@conv/protocol';
import { DiscoveryError } from './errors';
import type { Logger } from '@conv/observability';
import { normalizePeerAddress } from './peer';
import type { Peer } from './session';

export const GREETING = 'HELLO discovery - send HELP for commands\n';

/** Stop reading from a client whose unread replies exceed this; resume once they drain. */
const HIGH_WATER_BYTES = 64 * 1024;
/** Input is framed this many bytes at a time, so unanswered requests wait as bytes, not as parsed lines. */
const FRAME_BYTES = 1024;
/** After our last line to a misbehaving client, how long it may take to close before we cut it. */
const LINGER_MS = 2_000;
/** On shutdown, how long connections get to take their last replies before being cut. */
const SHUTDOWN_GRACE_MS = 2_000;

export type LineServerOptions = {
  host: string;
  port: number;
  maxConnections: number;
  /** 0: never time out. */
  idleTimeoutMs: number;
  maxLineBytes: number;
  greeting: boolean;
  log: Logger;
  /**
   * The protocol: one request line in, the reply's bytes out. A promise (a write to a shared
   * store) holds back the rest of that connection's input until it settles, so replies stay
   * in order and a client reads its own writes; other connections are not held.
   */
  handle: (line: string, peer: Peer) => string | Promise<string>;
};

/**
 * The TCP shell around a line protocol: listen, frame lines, enforce limits (line length,
 * connections, idle time, output backlog), close gracefully. Each connection carries any
 * number of requests, pipelined or not; a client that half-closes still gets its replies.
 */
export class LineServer {
  readonly #server: Server;
  readonly #options: LineServerOptions;
  readonly #sockets = new Set<Socket>();
  #closing: Promise<void> | undefined;

  private constructor(options: LineServerOptions) {
    this.#options = options;
    this.#server = createServer({ allowHalfOpen: true, noDelay: true }, (socket) => this.#accept(socket));
  }

  static async listen(options: LineServerOptions): Promise<LineServer> {
    const server = new LineServer(options);
    await new Promise<void>((resolve, reject) => {
      server.#server.once('error', (error: NodeJS.ErrnoException) => reject(listenError(error, options)));
      server.#server.listen({ host: options.host, port: options.port, exclusive: true }, () => resolve());
    });
    server.#server.on('error', (error) => options.log.error('server-error', { error: error.message }));
    return server;
  }

  get address(): { host: string; port: number } {
    const address = this.#server.address() as AddressInfo;
    return { host: address.address, port: address.port };
  }

  get connections(): number {
    return this.#sockets.size;
  }

  /** Stops accepting, lets every connection take its replies, then closes them. Idempotent. */
  close(): Promise<void> {
    this.#closing ??= new Promise<void>((resolve) => {
      this.#server.close(() => resolve());
      for (const socket of this.#sockets) socket.end();
      const cut = setTimeout(() => {
        for (const socket of this.#sockets) socket.destroy();
      }, SHUTDOWN_GRACE_MS);
      cut.unref();
    });
    return this.#closing;
  }

  #accept(socket: Socket): void {
    const { log, maxConnections } = this.#options;
    socket.on('error', (error: NodeJS.ErrnoException) => log.debug('socket-error', { error: error.code ?? error.message }));
    if (this.#closing) {
      socket.destroy();
      return;
    }
    if (this.#sockets.size >= maxConnections) {
      log.warn('connection-refused', { reason: 'too-many-connections', limit: maxConnections, from: socket.remoteAddress });
      sayGoodbye(socket, formatFailure(failure('TOO_MANY_CONNECTIONS', `This server takes ${maxConnections} connections at most; try again later.`)));
      return;
    }
    this.#sockets.add(socket);
    socket.once('close', () => this.#sockets.delete(socket));
    this.#serve(socket);
  }

  #serve(socket: Socket): void {
    const { handle, idleTimeoutMs, maxLineBytes, greeting } = this.#options;
    const peer: Peer = { address: normalizePeerAddress(socket.remoteAddress) };
    const splitter = new LineSplitter({ maxLineBytes });
    let done = false;

    if (greeting) socket.write(GREETING);
    if (idleTimeoutMs > 0) {
      socket.setTimeout(idleTimeoutMs, () => {
        if (done) return;
        done = true;
        sayGoodbye(socket, formatFailure(failure('IDLE_TIMEOUT', `Nothing was received for ${idleTimeoutMs} ms.`)));
      });
    }

    // Input not answered yet: raw bytes, framed a little at a time. A client that pipelines
    // requests without reading the replies is answered only as fast as it reads; the rest waits
    // here as the bytes it sent (the socket is paused meanwhile), never as megabytes of replies.
    let unread: Buffer = Buffer.alloc(0);
    const framed: FramedLine[] = [];
    let blocked = false;
    let ended = false;
    let flushed = false;
    /** The text of a reply that was awaited, written with the next batch. */
    let settled = '';

    const nextFramed = (): FramedLine | undefined => {
      while (framed.length === 0 && unread.length > 0) {
        const piece = unread.subarray(0, FRAME_BYTES);
        unread = unread.subarray(piece.length);
        framed.push(...splitter.push(piece));
      }
      if (framed.length === 0 && ended && !flushed) {
        // The client half-closed and everything before was answered: a last line without \n counts.
        flushed = true;
        framed.push(...splitter.end());
      }
      return framed.shift();
    };

    const answer = (): void => {
      while (!done && !blocked) {
        if (this.#closing) {
          unread = Buffer.alloc(0);
          framed.length = 0;
          flushed = true;
        }
        let out = settled;
        settled = '';
        let line: FramedLine | undefined;
        while (out.length < HIGH_WATER_BYTES && (line = nextFramed()) !== undefined) {
          if (line.ok) {
            const reply = handle(line.line, peer);
            if (typeof reply === 'string') {
              out += reply;
              continue;
            }
            // Held: what is ready goes now; further input waits (unread, socket paused) for this one.
            blocked = true;
            socket.pause();
            if (out !== '') socket.write(out);
            void reply.then(
              (text) => {
                settled = text;
                blocked = false;
                socket.resume();
                if (!socket.writableEnded && !socket.destroyed) answer();
              },
              () => undefined,
            );
            return;
          }
          out += formatFailure(line.failure);
          if (line.failure.code === 'LINE_TOO_LONG') {
            done = true;
            sayGoodbye(socket, out);
            return;
          }
        }
        if (out === '') {
          if (ended) {
            done = true;
            if (!socket.writableEnded) socket.end();
          }
          return;
        }
        if (!socket.write(out) && socket.writableLength > HIGH_WATER_BYTES) {
          blocked = true;
          socket.pause();
          socket.once('drain', () => {
            blocked = false;
            socket.resume();
            answer();
          });
        }
      }
    };

    socket.on('data', (chunk: Buffer) => {
      // After the last reply (line too long, idle, shutdown) input is read and dropped, so the
      // client sees our FIN and not a reset.
      if (done || this.#closing) return;
      unread = unread.length === 0 ? chunk : Buffer.concat([unread, chunk]);
      answer();
    });

    socket.on('end', () => {
      // The client half-closed: answer what it sent (a last line without \n counts), then close.
      if (done) return;
      ended = true;
      answer();
    });
  }
}

/** Writes a last line, closes our side, and cuts the connection if the client lingers. */
function sayGoodbye(socket: Socket, text: string): void {
  socket.setTimeout(0);
  socket.end(text);
  // Keep reading (and dropping) so unread input does not turn our close into a reset.
  socket.on('data', () => undefined);
  socket.resume();
  const cut = setTimeout(() => socket.destroy(), LINGER_MS);
  cut.unref();
  socket.once('close', () => clearTimeout(cut));
}

function listenError(error: NodeJS.ErrnoException, options: { host: string; port: number }): DiscoveryError {
  const where = `${options.host.includes(':') ? `[${options.host}]` : options.host}:${options.port}`;
  const why =
    error.code === 'EADDRINUSE'
      ? `${where} is already in use`
      : error.code === 'EADDRNOTAVAIL'
        ? `${options.host} is not an address of this machine`
        : error.code === 'EACCES'
          ? `no permission to listen on ${where}`
          : `${where}: ${error.message}`;
  return new DiscoveryError('LISTEN_FAILED', `cannot listen: ${why}`, { cause: error });
}
