import { type Server, type Socket, createServer } from 'node:net';
import { type FramedLine, LineSplitter, failure, formatFailure } from '@conv/protocol';
import { formatAddress } from './config';
import { ProxyError } from './errors';
import type { Logger } from '@conv/observability';
import { type Answer, ProxySession } from './session';

export type ListenOptions = {
  host: string;
  port: number;
  maxConnections: number;
  idleTimeoutMs: number;
  answer: Answer;
  log: Logger;
};

export type ProxyServer = {
  readonly address: { host: string; port: number };
  readonly connections: number;
  /** Stops accepting, lets requests in flight finish (up to `graceMs`), closes the rest. */
  close(graceMs: number): Promise<void>;
};

/** Received but not yet framed bytes per connection before we stop reading from it. */
const MAX_UNFRAMED_BYTES = 64 * 1024;
/** Input framed at a time: at most a few hundred lines in the queue, whatever the chunk. */
const FRAME_SLICE_BYTES = 1024;
/** Unsent reply bytes per connection before we stop reading from it. */
const MAX_UNSENT_BYTES = 64 * 1024;

type Connection = { socket: Socket; busy: boolean; closing: boolean; stop: () => void };

/** The TCP shell: listen, track sockets, bound them, close gracefully. */
export async function listen(options: ListenOptions): Promise<ProxyServer> {
  const { log } = options;
  const connections = new Set<Connection>();
  let stopping = false;

  const server: Server = createServer({ allowHalfOpen: true, noDelay: true }, (socket) => {
    socket.on('error', (error) => log.debug('client.error', { error: error.message }));
    if (stopping) {
      socket.destroy();
      return;
    }
    if (connections.size >= options.maxConnections) {
      socket.end(formatFailure(failure('TOO_MANY_CONNECTIONS', `The proxy serves ${options.maxConnections} connections at once; try again later.`)));
      cutIfLingering(socket, options.idleTimeoutMs);
      log.warn('client.refused', { reason: 'too many connections', limit: options.maxConnections });
      return;
    }
    serve(socket);
  });

  function serve(socket: Socket): void {
    const connection: Connection = {
      socket,
      busy: false,
      closing: false,
      // For graceful close: an idle connection ends now, a busy one after its answer.
      stop: () => {
        connection.closing = true;
        if (!connection.busy) finish();
      },
    };
    connections.add(connection);
    const session = new ProxySession(options.answer);
    const splitter = new LineSplitter();
    const queue: FramedLine[] = [];
    // Input is kept as the bytes received and framed a slice at a time as the queue drains: a
    // 64 KB chunk of tiny lines would otherwise become tens of thousands of queued objects.
    const unframed: Buffer[] = [];
    let unframedBytes = 0;
    let ended = false;
    let endFramed = false;
    let done = false;
    let idleTimer: NodeJS.Timeout | undefined;

    const armIdle = () => {
      clearTimeout(idleTimer);
      idleTimer = setTimeout(() => {
        if (connection.busy || done) return;
        finish(formatFailure(failure('IDLE_TIMEOUT', `No request for ${options.idleTimeoutMs}ms; closing.`)));
      }, options.idleTimeoutMs);
    };
    const finish = (last?: string) => {
      if (done) return;
      done = true;
      clearTimeout(idleTimer);
      queue.length = 0;
      if (last === undefined) socket.end();
      else socket.end(last);
      // A client that takes its answer but never closes its side would hold this slot forever.
      cutIfLingering(socket, options.idleTimeoutMs);
    };
    /** Frames the next slice of unframed input (or, once the client ended, the last line). */
    const frameMore = (): boolean => {
      const chunk = unframed[0];
      if (chunk === undefined) {
        if (!ended || endFramed) return false;
        endFramed = true;
        queue.push(...splitter.end());
        return true;
      }
      const slice = chunk.subarray(0, FRAME_SLICE_BYTES);
      if (slice.length === chunk.length) unframed.shift();
      else unframed[0] = chunk.subarray(FRAME_SLICE_BYTES);
      unframedBytes -= slice.length;
      queue.push(...splitter.push(slice));
      return true;
    };
    const pump = () => {
      if (connection.busy || done) return;
      // The client is not reading its replies: answer nothing more until it does ('drain').
      if (socket.writableLength > MAX_UNSENT_BYTES) {
        socket.pause();
        return;
      }
      let next = queue.shift();
      while (next === undefined && frameMore()) next = queue.shift();
      if (!next) {
        if (ended || connection.closing) finish();
        else if (socket.isPaused() && socket.writableLength < MAX_UNSENT_BYTES) socket.resume();
        return;
      }
      connection.busy = true;
      void session.handle(next).then((step) => {
        connection.busy = false;
        if (done || socket.destroyed) return;
        if (step.close || connection.closing) {
          finish(step.reply);
          return;
        }
        socket.write(step.reply);
        armIdle();
        pump();
      });
    };

    socket.write(session.greeting());
    armIdle();
    socket.on('data', (chunk: Buffer) => {
      if (done) return;
      armIdle();
      unframed.push(chunk);
      unframedBytes += chunk.length;
      if (unframedBytes > MAX_UNFRAMED_BYTES || socket.writableLength > MAX_UNSENT_BYTES) socket.pause();
      pump();
    });
    socket.on('drain', () => {
      if (unframedBytes <= MAX_UNFRAMED_BYTES) socket.resume();
      pump();
    });
    socket.on('end', () => {
      ended = true;
      pump();
    });
    socket.on('close', () => {
      done = true;
      clearTimeout(idleTimer);
      connections.delete(connection);
    });
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', (error: NodeJS.ErrnoException) => {
      reject(new ProxyError('LISTEN_FAILED', `proxy: cannot listen on ${formatAddress(options)}: ${error.code === 'EADDRINUSE' ? 'the port is in use' : error.message}`, { cause: error }));
    });
    server.listen(options.port, options.host, () => resolve());
  });
  server.on('error', (error) => log.error('server.error', { error: error.message }));
  const bound = server.address();
  if (bound === null || typeof bound === 'string') throw new ProxyError('LISTEN_FAILED', 'proxy: the server has no TCP address');

  return {
    address: { host: options.host, port: bound.port },
    get connections() {
      return connections.size;
    },
    close: async (graceMs: number) => {
      stopping = true;
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      for (const connection of connections) connection.stop();
      const grace = new Promise<void>((resolve) => setTimeout(resolve, graceMs).unref());
      await Promise.race([closed, grace]);
      for (const connection of connections) connection.socket.destroy();
      await closed;
    },
  };
}

/**
 * After our last line: keep reading (and dropping) the client's input, so that closing does not
 * turn into a reset, and cut the connection if the client has not closed its side within `ms`.
 */
function cutIfLingering(socket: Socket, ms: number): void {
  socket.resume();
  const cut = setTimeout(() => socket.destroy(), ms);
  cut.unref();
  socket.once('close', () => clearTimeout(cut));
}
