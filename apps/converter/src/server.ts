import { type Server, type Socket, createServer } from 'node:net';
import { DEFAULT_MAX_LINE_BYTES, type FramedLine, LineSplitter } from '@conv/protocol';
import { ConverterError } from './errors';
import type { Logger } from '@conv/observability';
import type { PairConversion } from './pair';
import { REFUSALS, createSession } from './session';

export type ConversionServerOptions = {
  readonly host: string;
  readonly port: number;
  readonly conversion: PairConversion;
  readonly maxConnections: number;
  readonly idleTimeoutMs: number;
  readonly maxLineBytes?: number;
  readonly log: Logger;
};

export interface ConversionServer {
  /** The address actually bound (port 0 becomes a real port). */
  readonly address: { readonly host: string; readonly port: number };
  /** Open client connections. */
  readonly connections: number;
  /** Connections not being read because their unread replies exceed the high-water mark. */
  readonly paused: number;
  /**
   * Stops accepting, lets connections finish the request in flight (at most `graceMs`), then
   * closes whatever is left. Persistent connections with no partial request are closed at once.
   */
  close(graceMs: number): Promise<void>;
}

/** Unread replies above this many bytes pause reading from that client until 'drain'. */
const HIGH_WATER_BYTES = 64 * 1024;
/** Input is framed this many bytes at a time, so unanswered requests wait as bytes, not as replies. */
const FRAME_BYTES = 1024;

type Connection = {
  readonly socket: Socket;
  /** Asks the connection to end as soon as it owes the client nothing. */
  drain(): void;
};

/** The TCP shell around createSession: listen, limits, idle timeout, graceful close. */
export async function startConversionServer(options: ConversionServerOptions): Promise<ConversionServer> {
  const { conversion, maxConnections, idleTimeoutMs, log } = options;
  const maxLineBytes = options.maxLineBytes ?? DEFAULT_MAX_LINE_BYTES;
  const connections = new Set<Connection>();
  const refused = new Set<Socket>();
  let draining = false;
  let paused = 0;

  const server: Server = createServer({ allowHalfOpen: true, noDelay: true }, (socket) => {
    socket.on('error', (error) => log.debug('client-error', { error: error.message }));
    if (draining || connections.size >= maxConnections) {
      refused.add(socket);
      socket.once('close', () => refused.delete(socket));
      // Nobody reads this socket: bound how long it may linger half-open.
      socket.setTimeout(idleTimeoutMs, () => socket.destroy());
      socket.end(REFUSALS.tooManyConnections(maxConnections));
      log.warn('connection-refused', { reason: draining ? 'shutting-down' : 'limit', limit: maxConnections });
      return;
    }
    const connection = serve(socket);
    connections.add(connection);
    socket.once('close', () => connections.delete(connection));
  });

  function serve(socket: Socket): Connection {
    const session = createSession(conversion);
    const splitter = new LineSplitter({ maxLineBytes });
    let closing = false;
    let drainRequested = false;

    const finish = (reply = ''): void => {
      if (closing) return;
      closing = true;
      socket.end(reply);
    };

    const answer = (frames: FramedLine[]): void => {
      for (const framed of frames) {
        if (closing) return;
        let step;
        try {
          step = session.receive(framed);
        } catch (error) {
          log.error('internal-error', { error: error instanceof Error ? error.message : String(error) });
          finish(REFUSALS.internal());
          return;
        }
        if (step.close || (drainRequested && splitter.bufferedBytes === 0)) finish(step.reply);
        else socket.write(step.reply);
      }
    };

    socket.setTimeout(idleTimeoutMs);
    socket.on('timeout', () => {
      // A second timeout means the client ignored our FIN: let it go.
      if (closing) socket.destroy();
      else finish(REFUSALS.idleTimeout(idleTimeoutMs));
    });
    // Input not answered yet, kept as the bytes sent and framed a piece at a time: a client that
    // pipelines requests without reading is answered only as fast as it reads, so its replies
    // (a short bad line costs a long FAILURE) never pile up in our memory.
    let unread: Buffer | undefined;
    let stalled = false;
    let ended = false;

    const stall = (): void => {
      if (stalled) return;
      stalled = true;
      socket.pause();
      paused++;
      const resume = (): void => {
        paused--;
        stalled = false;
        socket.off('drain', resume);
        socket.off('close', resume);
        if (socket.destroyed) return;
        consume();
        if (!stalled) socket.resume();
      };
      socket.once('drain', resume);
      socket.once('close', resume);
    };

    const consume = (): void => {
      while (unread !== undefined && !closing) {
        if (socket.writableLength > HIGH_WATER_BYTES) {
          stall();
          return;
        }
        const piece = unread.subarray(0, FRAME_BYTES);
        unread = piece.length < unread.length ? unread.subarray(piece.length) : undefined;
        answer(splitter.push(piece));
      }
      if (closing) return;
      if (socket.writableLength > HIGH_WATER_BYTES) {
        stall();
        return;
      }
      if (ended && unread === undefined) {
        // The client closed its sending side; a last line without `\n` still counts.
        answer(splitter.end());
        finish();
      }
    };

    socket.on('data', (chunk: Buffer) => {
      if (closing) return;
      unread = unread === undefined ? chunk : Buffer.concat([unread, chunk]);
      if (!stalled) consume();
    });
    socket.on('end', () => {
      if (closing) {
        finish();
        return;
      }
      ended = true;
      if (!stalled) consume();
    });
    socket.write(session.greeting);

    return {
      socket,
      drain(): void {
        drainRequested = true;
        // A persistent client between requests owes us nothing and we owe it nothing.
        if (session.mode === 'persistent' && splitter.bufferedBytes === 0 && unread === undefined) finish();
      },
    };
  }

  await new Promise<void>((resolve, reject) => {
    const onError = (error: NodeJS.ErrnoException): void => {
      reject(
        new ConverterError(
          'LISTEN_FAILED',
          `converter: cannot listen on ${options.host}:${options.port}: ${describeListenError(error)}`,
          { cause: error },
        ),
      );
    };
    server.once('error', onError);
    server.listen(options.port, options.host, () => {
      server.off('error', onError);
      resolve();
    });
  });
  server.on('error', (error) => log.error('server-error', { error: error.message }));
  const bound = server.address();
  if (bound === null || typeof bound === 'string') throw new ConverterError('LISTEN_FAILED', 'converter: the server has no TCP address');
  const address = Object.freeze({ host: bound.address, port: bound.port });

  return {
    address,
    get connections() {
      return connections.size;
    },
    get paused() {
      return paused;
    },
    async close(graceMs: number): Promise<void> {
      draining = true;
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      for (const connection of connections) connection.drain();
      const deadline = setTimeout(() => {
        for (const { socket } of connections) socket.destroy();
        for (const socket of refused) socket.destroy();
      }, graceMs);
      await closed;
      clearTimeout(deadline);
    },
  };
}

function describeListenError(error: NodeJS.ErrnoException): string {
  switch (error.code) {
    case 'EADDRINUSE':
      return 'the port is already in use (EADDRINUSE).';
    case 'EADDRNOTAVAIL':
      return 'this machine has no such address (EADDRNOTAVAIL).';
    case 'EACCES':
      return 'permission denied (EACCES); ports below 1024 need privileges.';
    case undefined:
    default:
      return `${error.message}.`;
  }
}
