import { freePorts } from '@conv/server';
import { type Socket, connect } from 'node:net';

/** Connects to host:port on loopback. */
export function openSocket(port: number, host = '127.0.0.1', localAddress?: string): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = connect({ port, host, ...(localAddress ? { localAddress } : {}) });
    socket.once('connect', () => {
      socket.off('error', reject);
      resolve(socket);
    });
    socket.once('error', reject);
  });
}

/**
 * Hands `onLine` each line `socket` receives, without its newline (set the socket's encoding
 * first). Returns a function that takes what came after the last newline: the end of a reply
 * the server closed without one.
 */
export function readLines(socket: Socket, onLine: (line: string) => void): () => string {
  let buffer = '';
  socket.on('data', (chunk: string) => {
    buffer += chunk;
    let newline: number;
    while ((newline = buffer.indexOf('\n')) >= 0) {
      const line = buffer.slice(0, newline);
      buffer = buffer.slice(newline + 1);
      onLine(line);
    }
  });
  return () => {
    const rest = buffer;
    buffer = '';
    return rest;
  };
}

/**
 * A client that reads a server's answers line by line over one connection. `closed` resolves
 * when the server closes; `lines` holds every line received so far.
 */
export class LineClient {
  readonly lines: string[] = [];
  readonly closed: Promise<void>;
  #read = 0;
  #waiters: (() => void)[] = [];
  #ended = false;

  private constructor(readonly socket: Socket) {
    socket.setEncoding('utf8');
    const rest = readLines(socket, (line) => this.lines.push(line.replace(/\r$/, '')));
    // After readLines' own listener: waiters wake once per chunk, with all its lines in.
    socket.on('data', () => this.#wake());
    socket.on('error', () => undefined);
    this.closed = new Promise((resolve) =>
      socket.once('close', () => {
        this.#ended = true;
        const last = rest();
        if (last) this.lines.push(last);
        this.#wake();
        resolve();
      }),
    );
  }

  static async connect(port: number, options: { host?: string; localAddress?: string } = {}): Promise<LineClient> {
    return new LineClient(await openSocket(port, options.host, options.localAddress));
  }

  get isClosed(): boolean {
    return this.#ended;
  }

  send(text: string | Uint8Array): void {
    this.socket.write(typeof text === 'string' && !text.endsWith('\n') ? `${text}\n` : text);
  }

  /** The next unread line; rejects if the connection closes or `timeoutMs` passes first. */
  async nextLine(timeoutMs = 5000): Promise<string> {
    const [line] = await this.nextLines(1, timeoutMs);
    return line ?? '';
  }

  async nextLines(count: number, timeoutMs = 5000): Promise<string[]> {
    const deadline = Date.now() + timeoutMs;
    while (this.lines.length - this.#read < count) {
      if (this.#ended) throw new Error(`connection closed after ${this.lines.length} lines: ${JSON.stringify(this.lines)}`);
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`no line within ${timeoutMs} ms; got ${JSON.stringify(this.lines)}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.#waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
    const out = this.lines.slice(this.#read, this.#read + count);
    this.#read += count;
    return out;
  }

  /** Sends one request line and reads lines until `isLast` says the reply is complete. */
  async request(line: string, isLast: (line: string) => boolean = () => true, timeoutMs = 5000): Promise<string[]> {
    this.send(line);
    const reply: string[] = [];
    for (;;) {
      const next = await this.nextLine(timeoutMs);
      reply.push(next);
      if (isLast(next)) return reply;
    }
  }

  close(): void {
    this.socket.destroy();
  }

  #wake(): void {
    for (const wake of this.#waiters.splice(0)) wake();
  }
}

/**
 * The course's one-shot exchange: connect, send one line, read until the server closes.
 * Returns every line the server sent (for a converter: greeting, then the answer).
 */
export async function exchange(port: number, line: string, options: { host?: string; timeoutMs?: number } = {}): Promise<string[]> {
  const client = await LineClient.connect(port, options);
  client.send(line);
  const timeoutMs = options.timeoutMs ?? 5000;
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      client.close();
      reject(new Error(`server on port ${port} did not close within ${timeoutMs} ms; got ${JSON.stringify(client.lines)}`));
    }, timeoutMs);
  });
  try {
    await Promise.race([client.closed, timeout]);
  } finally {
    clearTimeout(timer);
  }
  return client.lines;
}

/** A port nothing listens on right now (a dead address for failover tests). */
export async function freePort(host = '127.0.0.1'): Promise<number> {
  const [port] = await freePorts(1, host);
  if (port === undefined) throw new Error('no port');
  return port;
}

/** A discovery server's LIST, as its `unit1 unit2 host port health` lines, on a connection of its own. */
export async function listRegistrations(port: number): Promise<string[]> {
  const client = await LineClient.connect(port);
  try {
    client.send('LIST');
    const lines: string[] = [];
    for (let line = await client.nextLine(5_000); line !== 'END'; line = await client.nextLine(5_000)) lines.push(line);
    return lines;
  } finally {
    client.close();
  }
}
