import { type AddressInfo, type Server, type Socket, createServer } from 'node:net';
import { LineSplitter, failure, formatAddress, formatFailure } from '@conv/protocol';
import { normalizePeerAddress } from './address';
import { ServerError, listenFailure } from './errors';
import type { Logger } from './log';
import type { Connection, LineSession, Peer } from './line-session';

export type LineServerOptions = {
  host: string;
  /** 0: any free port. */
  port: number;
  maxConnections: number;
  /** Close a connection (not a watching one) silent this long; 0: never. */
  idleTimeoutMs: number;
  /** Whether an idle close says so with an IDLE_TIMEOUT line (conversion servers) or closes silently. */
  idleNotice: boolean;
  /** In `grace` mode, how long after its last reply a connection waits for another request. */
  closeGraceMs?: number;
  maxLineBytes: number;
  /** The kernel's queue of connections not yet accepted: a burst larger than it waits a second for a SYN retry. */
  backlog?: number;
  /** A fresh conversation for each connection. */
  session: (connection: Connection) => LineSession;
  log: Logger;
};

/** Where a server listens and how many it serves, as its config states them. */
export type ListenConfig = Pick<LineServerOptions, 'host' | 'port' | 'maxConnections' | 'idleTimeoutMs'>;

/**
 * The options of a server that speaks the conversion protocol (a converter, the proxy): its
 * config's address and limits; a client cut for idleness is told so; a request is a short line.
 */
export function conversionServerOptions(config: ListenConfig): ListenConfig & Pick<LineServerOptions, 'idleNotice' | 'maxLineBytes'> {
  const { host, port, maxConnections, idleTimeoutMs } = config;
  return { host, port, maxConnections, idleTimeoutMs, idleNotice: true, maxLineBytes: 4096 };
}

export interface LineServer {
  /** The address actually bound (port 0 becomes a real port). */
  readonly address: { readonly host: string; readonly port: number };
  /** Open connections. */
  readonly connections: number;
  /** Connections not read from, because the client does not read its replies. */
  readonly paused: number;
  /**
   * Stops accepting; each connection ends as soon as it owes its client nothing (no reply in
   * flight, no request received and unanswered, no partial line); after `graceMs` whatever is
   * left is cut. Resolves once every connection has closed. Idempotent.
   */
  close(graceMs: number): Promise<void>;
}

/** Unread replies above this pause reading from that client until they drain. */
const HIGH_WATER_BYTES = 64 * 1024;
/** Input is framed this many bytes at a time, so unanswered requests wait as bytes, not as parsed lines. */
const FRAME_BYTES = 1024;
/** A watcher that leaves this much of its changes unread is cut; it resumes with `WATCH <epoch> <seq>`. */
const MAX_PUSH_BACKLOG_BYTES = 4 * 1024 * 1024;
/** After our last line, how long a client may take to close before we cut it. */
const LINGER_MS = 2_000;
const DEFAULT_BACKLOG = 4096;
const DEFAULT_CLOSE_GRACE_MS = 250;

type Conn = { readonly socket: Socket; drain(): void };

/**
 * The TCP shell every conv server shares: listen, frame lines, enforce limits (line length,
 * connections, idle time, output backlog), answer in order, close gracefully. A client that
 * pipelines requests without reading is answered only as fast as it reads; a client that
 * half-closes still gets its replies.
 */
export async function startLineServer(options: LineServerOptions): Promise<LineServer> {
  const { log, maxConnections } = options;
  const connections = new Set<Conn>();
  let draining = false;
  let paused = 0;

  const server: Server = createServer({ allowHalfOpen: true, noDelay: true }, (socket) => {
    socket.on('error', (error: NodeJS.ErrnoException) => log.debug('socket-error', { error: error.code ?? error.message }));
    if (draining) {
      socket.destroy();
      return;
    }
    if (connections.size >= maxConnections) {
      log.warn('connection-refused', { reason: 'too-many-connections', limit: maxConnections, from: socket.remoteAddress });
      goodbye(socket, formatFailure(failure('TOO_MANY_CONNECTIONS', `This server takes ${maxConnections} connections at most; try again later.`)));
      return;
    }
    const connection = serve(socket);
    connections.add(connection);
    socket.once('close', () => connections.delete(connection));
  });

  function serve(socket: Socket): Conn {
    // Asked of the kernel (getpeername) only when a session needs it: most connections never do.
    let address: string | undefined;
    const peer: Peer = {
      get address() {
        address ??= normalizePeerAddress(socket.remoteAddress);
        return address;
      },
    };
    const splitter = new LineSplitter({ maxLineBytes: options.maxLineBytes });
    /** Received and not yet framed: a client's pipelined requests wait here as bytes. */
    let unread: Buffer | undefined;
    const framed: ReturnType<LineSplitter['push']> = [];
    let ended = false;
    let endFramed = false;
    let finished = false;
    let held = false;
    let stalled = false;
    let shutdown = false;
    /** Text to write with the next batch: a settled reply, pushes made while one was held. */
    let out = '';
    let inBatch = false;
    let yielding = false;
    let graceTimer: NodeJS.Timeout | undefined;

    const connection: Connection = {
      peer,
      push(text: string): boolean {
        if (finished || socket.destroyed) return false;
        if (held || inBatch) {
          out += text;
          return true;
        }
        if (socket.writableLength > MAX_PUSH_BACKLOG_BYTES) {
          log.warn('watcher-cut', { from: peer.address, reason: 'it does not read its changes' });
          socket.destroy();
          return false;
        }
        socket.write(text);
        return true;
      },
    };
    const session = options.session(connection);
    socket.once('close', () => {
      finished = true;
      clearTimeout(graceTimer);
      session.closed?.();
    });

    const finish = (last = ''): void => {
      if (finished) return;
      finished = true;
      clearTimeout(graceTimer);
      goodbye(socket, last);
    };

    const nextLine = () => {
      while (framed.length === 0 && unread !== undefined) {
        // A chunk is framed whole when small (always, for a client in lock step): no view to make.
        const piece = unread.length <= FRAME_BYTES ? unread : unread.subarray(0, FRAME_BYTES);
        unread = piece === unread ? undefined : unread.subarray(piece.length);
        framed.push(...splitter.push(piece));
      }
      if (framed.length === 0 && ended && !endFramed) {
        // The client half-closed: a last line without `\n` still counts.
        endFramed = true;
        framed.push(...splitter.end());
      }
      return framed.shift();
    };

    // A one-shot client has been greeted and is owed its one answer; a kept connection owes nothing between requests.
    const owesNothing = (): boolean => session.mode !== 'single' && !held && framed.length === 0 && unread === undefined && splitter.bufferedBytes === 0;

    const stall = (): void => {
      if (stalled) return;
      stalled = true;
      paused++;
      socket.pause();
      socket.once('drain', () => {
        stalled = false;
        paused--;
        if (!finished) {
          socket.resume();
          answer();
        }
      });
    };

    const reply = (line: string): string | Promise<string> => {
      try {
        return session.handle(line);
      } catch (error) {
        return internal(error);
      }
    };

    const internal = (error: unknown): string => {
      log.error('internal-error', { error: error instanceof Error ? error.message : String(error) });
      return formatFailure(failure('INTERNAL', 'The server could not answer this request; it keeps serving others.'));
    };

    /** Answers what has been received, in order, as far as the client reads and nothing is held. */
    const answer = (): void => {
      while (!finished && !held && !stalled) {
        let close = false;
        let answered = false;
        let caughtUp = false;
        inBatch = true;
        try {
          while (out.length < HIGH_WATER_BYTES) {
            const line = nextLine();
            if (line === undefined) {
              caughtUp = true;
              break;
            }
            answered = true;
            clearTimeout(graceTimer);
            if (!line.ok) {
              out += formatFailure(line.failure);
              // After a line too long the stream is out of step with the client: always close.
              close = line.failure.code === 'LINE_TOO_LONG' || session.mode === 'single';
              if (close) break;
              continue;
            }
            const result = reply(line.line);
            if (typeof result !== 'string') {
              held = true;
              void result.then(settle, (error: unknown) => settle(internal(error)));
              break;
            }
            out += result;
            if (session.mode === 'single') {
              close = true;
              break;
            }
          }
        } finally {
          inBatch = false;
        }
        flush(close, answered);
        // Everything received is answered (a client in lock step): wait for its next bytes, no yield.
        if (!answered || caughtUp) return;
        // One batch at a time: a client pipelining megabytes must not keep every other connection
        // waiting (on a busy machine, past their idle timeout); the next batch comes after them.
        if (!finished && !held && !stalled) {
          if (!yielding) {
            yielding = true;
            // Read nothing more meanwhile: unanswered input must keep waiting in the kernel, not here.
            socket.pause();
            setImmediate(() => {
              yielding = false;
              if (finished) return;
              if (!stalled && !held) socket.resume();
              answer();
            });
          }
          return;
        }
      }
    };

    const settle = (text: string): void => {
      held = false;
      if (finished) return;
      // The held reply goes before anything pushed meanwhile.
      out = text + out;
      if (session.mode === 'single') {
        flush(true, true);
        return;
      }
      if (!stalled) socket.resume();
      flush(false, true);
      answer();
    };

    /** Writes what is ready; then closes, waits, or arms the close grace, as the mode says. */
    const flush = (close: boolean, answered: boolean): void => {
      const text = out;
      out = '';
      const received = !held && framed.length === 0 && unread === undefined;
      if (close || ((shutdown || ended) && received && splitter.bufferedBytes === 0)) {
        finish(text);
        return;
      }
      if (text !== '' && !socket.write(text) && socket.writableLength > HIGH_WATER_BYTES) stall();
      if (held) {
        socket.pause();
        return;
      }
      // Course discovery clients read until we close: after the last reply, a short grace for the next request.
      if (session.mode === 'grace' && answered && received) {
        clearTimeout(graceTimer);
        graceTimer = setTimeout(() => finish(), options.closeGraceMs ?? DEFAULT_CLOSE_GRACE_MS);
      }
    };

    if (options.idleTimeoutMs > 0) {
      socket.setTimeout(options.idleTimeoutMs, () => {
        if (finished || session.mode === 'watching' || held) return;
        finish(options.idleNotice ? formatFailure(failure('IDLE_TIMEOUT', `Nothing was received for ${options.idleTimeoutMs} ms; closing.`)) : '');
      });
    }
    socket.on('data', (chunk: Buffer) => {
      // After our last line (or on shutdown) input is read and dropped: the client sees our FIN, not a reset.
      if (finished) return;
      unread = unread === undefined ? chunk : Buffer.concat([unread, chunk]);
      answer();
    });
    socket.on('end', () => {
      if (finished) return;
      ended = true;
      answer();
    });
    if (session.greeting !== '') socket.write(session.greeting);

    return {
      socket,
      drain(): void {
        if (finished) return;
        shutdown = true;
        if (owesNothing()) finish();
      },
    };
  }

  await new Promise<void>((resolve, reject) => {
    const where = formatAddress({ host: options.host, port: options.port });
    server.once('error', (error: NodeJS.ErrnoException) =>
      reject(new ServerError('LISTEN_FAILED', `cannot listen: ${listenFailure(error, where, options.host)}`, { cause: error })),
    );
    server.listen({ host: options.host, port: options.port, exclusive: true, backlog: options.backlog ?? DEFAULT_BACKLOG }, () => resolve());
  });
  server.on('error', (error) => log.error('server-error', { error: error.message }));
  const bound = server.address() as AddressInfo;
  let closing: Promise<void> | undefined;

  return {
    address: Object.freeze({ host: bound.address, port: bound.port }),
    get connections() {
      return connections.size;
    },
    get paused() {
      return paused;
    },
    close(graceMs: number): Promise<void> {
      closing ??= new Promise<void>((resolve) => {
        draining = true;
        server.close(() => resolve());
        for (const connection of connections) connection.drain();
        const cut = setTimeout(() => {
          for (const { socket } of connections) socket.destroy();
        }, graceMs);
        cut.unref();
      });
      return closing;
    },
  };
}

/** Writes a last line, closes our side, and cuts the connection if the client lingers. */
function goodbye(socket: Socket, text: string): void {
  socket.setTimeout(0);
  socket.end(text);
  // Keep reading (and dropping) so unread input does not turn our close into a reset.
  socket.on('data', () => undefined);
  socket.resume();
  const cut = setTimeout(() => socket.destroy(), LINGER_MS);
  cut.unref();
  socket.once('close', () => clearTimeout(cut));
}
