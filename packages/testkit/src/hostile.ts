import { readFileSync } from 'node:fs';
import { type Socket, connect } from 'node:net';
import { readLines } from './line-client';

/**
 * Hostile inputs and hostile clients for the servers' fuzz suites. Every random choice comes
 * from a seeded generator, so a failing run is replayed exactly with FUZZ_SEED=<seed>.
 */

/** A seeded pseudo-random source (mulberry32): the same seed gives the same inputs. */
export type Random = {
  readonly seed: number;
  /** A float in [0, 1). */
  next(): number;
  /** A whole number from `min` to `max`, both included. */
  int(min: number, max: number): number;
  pick<T>(items: readonly T[]): T;
  bytes(length: number): Uint8Array;
};

export function seededRandom(seed: number): Random {
  let state = seed >>> 0;
  const next = (): number => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const int = (min: number, max: number): number => min + Math.floor(next() * (max - min + 1));
  return {
    seed,
    next,
    int,
    pick: <T>(items: readonly T[]): T => {
      if (items.length === 0) throw new Error('pick from an empty list');
      return items[int(0, items.length - 1)] as T;
    },
    bytes: (length: number) => Uint8Array.from({ length }, () => int(0, 255)),
  };
}

/** The seed of this run: `FUZZ_SEED` from the environment when set, else `fallback` (fixed, so CI is repeatable). */
export function fuzzSeed(fallback: number): number {
  const fromEnv = process.env.FUZZ_SEED;
  if (fromEnv !== undefined && /^\d+$/.test(fromEnv)) return Number(fromEnv);
  return fallback;
}

/** Numbers people (and attackers) type that are not plain decimals, or are edge cases of them. */
export const HOSTILE_NUMBERS = ['NaN', 'Infinity', '-Infinity', '1e400', '-1e400', '-0', '0x1F', '1_000', '1,5', '0b101', '1e', '--1', '+-1', '.', '1..2', '١٢'] as const;

/** Ports that are not a whole number from 1 to 65535 written without leading zeros. */
export const HOSTILE_PORTS = ['0', '65536', '-1', '08', '1e3', '0x1F', '1_000', 'NaN', 'Infinity', '99999999999999999999', '+80', '80.0'] as const;

/** Hosts that are none of IPv4, IPv6 or a DNS name (a host "with spaces" is written as two tokens). */
export const HOSTILE_HOSTS = [
  'a'.repeat(300),
  `${'label.'.repeat(50)}com`,
  '127.0.0.01',
  '256.1.1.1',
  '::1::',
  '[::1]',
  'fe80::1%eth0',
  'host_name',
  '-leading.dash',
  '127.0.0.1:80',
] as const;

/** One request line, without its `\n`, and what it is, for failure messages. */
export type HostileLine = { readonly kind: string; readonly bytes: Uint8Array };

const NEWLINE = 0x0a;
const encoder = new TextEncoder();

/** A line of `text` (UTF-8), for the hand-written cases. */
export function textLine(kind: string, text: string): HostileLine {
  return { kind, bytes: encoder.encode(text) };
}

/**
 * A random one-line payload that is never a valid request of any conv protocol: random bytes,
 * invalid UTF-8, NUL and control characters, or thousands of tokens (kept under the 4096-byte
 * line limit, so the server has to parse them). Never blank, never contains `\n`.
 */
export function hostileLine(random: Random): HostileLine {
  const kind = random.pick(['random-bytes', 'invalid-utf8', 'control-chars', 'many-tokens', 'many-tabs'] as const);
  let bytes: Uint8Array;
  switch (kind) {
    case 'random-bytes':
      bytes = random.bytes(random.int(1, 600));
      break;
    case 'invalid-utf8': {
      // Lone continuation bytes, overlong forms, surrogates, truncated sequences, 0xFE/0xFF.
      const bad = [[0x80], [0xc0, 0xaf], [0xed, 0xa0, 0x80], [0xe2, 0x82], [0xfe], [0xff], [0xf8, 0x88, 0x80, 0x80, 0x80], [0xf4, 0x90, 0x80, 0x80]];
      const head = encoder.encode(random.pick(['ADD ', 'LOOKUP ', 'ft in ', 'PING', '']));
      bytes = Uint8Array.from([...head, ...random.pick(bad), ...encoder.encode(random.pick([' b', ' 1', '']))]);
      break;
    }
    case 'control-chars': {
      const controls = [0x00, 0x01, 0x07, 0x08, 0x0b, 0x0c, 0x1b, 0x7f];
      const text = random.pick(['LOOKUP ft in', 'ft in 1', 'ADD a b 127.0.0.1 9', 'PING']);
      const at = random.int(1, text.length - 1);
      bytes = Uint8Array.from([...encoder.encode(text.slice(0, at)), random.pick(controls), ...encoder.encode(text.slice(at))]);
      break;
    }
    case 'many-tokens':
      bytes = encoder.encode(Array.from({ length: random.int(1000, 1300) }, () => random.pick(['a', 'ft', '1', '$'])).join(' '));
      break;
    case 'many-tabs':
      bytes = encoder.encode(`x${'\t y'.repeat(random.int(500, 1000))}`);
      break;
  }
  // One line: no newline inside; never blank (a blank line gets no reply at all).
  bytes = bytes.map((byte) => (byte === NEWLINE ? 0x3f : byte));
  if (bytes.every((byte) => byte === 0x20 || byte === 0x09 || byte === 0x0d)) bytes = Uint8Array.from([0x3f, ...bytes]);
  return { kind, bytes };
}

/** A printable description of a line for failure messages: escaped, cut to 80 characters. */
export function describeLine(line: HostileLine): string {
  const text = Buffer.from(line.bytes).toString('latin1');
  return `${line.kind} (${line.bytes.length} bytes): ${JSON.stringify(text.length > 80 ? `${text.slice(0, 80)}...` : text)}`;
}

/** The trailing `(CODE)` of a failure line, or undefined when the line is not a FAILURE line. */
export function failureCodeOf(line: string): string | undefined {
  if (!/^FAILURE\b/.test(line)) return undefined;
  return /\(([A-Z][A-Z0-9_]*)\)$/.exec(line)?.[1];
}

/**
 * A raw client: what it received, line by line, and when the server closed. With
 * `allowHalfOpen` it keeps its own side open after the server's FIN, as a client that never
 * closes does; without it, Node closes our side as soon as the server closes its own.
 */
export class RawClient {
  readonly lines: string[] = [];
  /** Resolves when the server has closed its sending side (FIN) or the connection is gone. */
  readonly ended: Promise<void>;
  readonly closed: Promise<void>;
  #read = 0;
  #waiters: (() => void)[] = [];
  #gone = false;

  private constructor(readonly socket: Socket) {
    socket.setEncoding('utf8');
    socket.on('error', () => undefined);
    const rest = readLines(socket, (line) => this.lines.push(line.replace(/\r$/, '')));
    // After readLines' own listener: waiters wake once per chunk, with all its lines in.
    socket.on('data', () => this.#wake());
    const flush = (): void => {
      const last = rest();
      if (last !== '') this.lines.push(last);
      this.#gone = true;
      this.#wake();
    };
    this.ended = new Promise((resolve) => {
      socket.once('end', resolve);
      socket.once('close', resolve);
    }).then(flush);
    this.closed = new Promise<void>((resolve) => socket.once('close', () => resolve())).then(flush);
  }

  static connect(port: number, options: { host?: string; allowHalfOpen?: boolean } = {}): Promise<RawClient> {
    return new Promise((resolve, reject) => {
      const socket = connect({ port, host: options.host ?? '127.0.0.1', allowHalfOpen: options.allowHalfOpen ?? false });
      socket.once('connect', () => {
        socket.off('error', reject);
        resolve(new RawClient(socket));
      });
      socket.once('error', reject);
    });
  }

  /** Whether the server closed its side (or the connection is gone). */
  get gone(): boolean {
    return this.#gone;
  }

  write(bytes: Uint8Array | string): void {
    if (!this.socket.destroyed) this.socket.write(bytes);
  }

  /** Waits until `count` lines have arrived (all of them so far when the server closes first). */
  async waitForLines(count: number, timeoutMs = 10_000): Promise<string[]> {
    const deadline = Date.now() + timeoutMs;
    while (this.lines.length < count && !this.#gone) {
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`no ${count} lines within ${timeoutMs} ms; got ${JSON.stringify(this.lines)}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.#waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
    return this.lines;
  }

  /**
   * Reads the lines not read yet up to and including the first that satisfies `isLast`, and
   * marks them read; rejects if the server closes or `timeoutMs` passes first.
   */
  async readUntil(isLast: (line: string) => boolean, timeoutMs = 10_000): Promise<string[]> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = this.lines.findIndex((line, index) => index >= this.#read && isLast(line));
      if (found >= 0) {
        const reply = this.lines.slice(this.#read, found + 1);
        this.#read = found + 1;
        return reply;
      }
      if (this.#gone) throw new Error(`connection closed before the expected line; got ${JSON.stringify(this.lines.slice(this.#read))}`);
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`expected line not within ${timeoutMs} ms; got ${JSON.stringify(this.lines.slice(this.#read))}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.#waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  /** Waits for the server's FIN (or the end of the connection); rejects after `timeoutMs`. */
  async waitForEnd(timeoutMs = 10_000): Promise<string[]> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`server did not close within ${timeoutMs} ms; got ${JSON.stringify(this.lines)}`)), timeoutMs);
    });
    try {
      await Promise.race([this.ended, timeout]);
    } finally {
      clearTimeout(timer);
    }
    return this.lines;
  }

  /** Drops the connection at once (a client that vanishes mid-line). */
  destroy(): void {
    this.socket.destroy();
  }

  #wake(): void {
    for (const wake of this.#waiters.splice(0)) wake();
  }
}

/**
 * A slow client: writes `bytes` one byte at a time, `intervalMs` apart (a client behaviour, not a
 * test wait). Resolves once the last byte is written; the caller reads the reply from `client`.
 */
export async function sendSlowly(client: RawClient, bytes: Uint8Array | string, intervalMs: number): Promise<void> {
  const data = typeof bytes === 'string' ? encoder.encode(bytes) : bytes;
  for (const byte of data) {
    if (client.gone) return;
    client.write(Uint8Array.of(byte));
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}

/** One connection's fate in a storm: the lines it received before the server closed it. */
export type StormOutcome = { readonly lines: readonly string[] } | { readonly error: string };

/**
 * Opens `count` connections at once. Only when every one is open (or refused) does each send
 * `request` (with `\n`) and its FIN, so the accepted ones all hold their slots together; then
 * each reads until the server closes. Resolves once every connection has ended, failed, or
 * outlived `timeoutMs`.
 */
export async function connectionStorm(port: number, options: { count: number; request: string; timeoutMs?: number }): Promise<StormOutcome[]> {
  const { count, request, timeoutMs = 20_000 } = options;
  const opened = await Promise.all(
    Array.from({ length: count }, () =>
      RawClient.connect(port).then(
        (client) => ({ client }),
        (error: unknown) => ({ error: `connect failed: ${error instanceof Error ? error.message : String(error)}` }),
      ),
    ),
  );
  return Promise.all(
    opened.map(async (entry): Promise<StormOutcome> => {
      if ('error' in entry) return entry;
      const { client } = entry;
      if (!client.gone) client.socket.end(`${request}\n`);
      let timer: NodeJS.Timeout | undefined;
      try {
        await Promise.race([
          client.closed,
          new Promise<never>((_, reject) => {
            timer = setTimeout(() => reject(new Error(`not closed within ${timeoutMs} ms`)), timeoutMs);
          }),
        ]);
        return { lines: client.lines };
      } catch (error) {
        client.destroy();
        return { error: `${error instanceof Error ? error.message : String(error)}; got ${JSON.stringify(client.lines)}` };
      } finally {
        clearTimeout(timer);
      }
    }),
  );
}

/** The resident memory of a process in bytes, from /proc/<pid>/status (Linux). */
export function residentBytes(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const match = /^VmRSS:\s+(\d+)\s+kB$/m.exec(status);
  if (!match) throw new Error(`no VmRSS in /proc/${pid}/status`);
  return Number(match[1]) * 1024;
}

/** A loop of well-behaved requests, running beside the hostile ones. */
export type SteadyClient = {
  /** Rounds answered correctly so far. */
  readonly served: number;
  /** Stops after the round in flight; resolves with the counts and every wrong answer seen. */
  stop(): Promise<{ served: number; errors: string[] }>;
};

/**
 * Runs `round` again and again (paced by `pauseMs`, so it does not hog a shared machine) until
 * stopped. A round throws to report a wrong answer; the loop records it and goes on.
 */
export function steadyClient(round: () => Promise<void>, options: { pauseMs?: number } = {}): SteadyClient {
  const { pauseMs = 5 } = options;
  const errors: string[] = [];
  let served = 0;
  let stopping = false;
  const loop = (async () => {
    while (!stopping) {
      try {
        await round();
        served++;
      } catch (error) {
        errors.push(error instanceof Error ? error.message : String(error));
      }
      await new Promise((resolve) => setTimeout(resolve, pauseMs));
    }
  })();
  return {
    get served() {
      return served;
    },
    async stop() {
      stopping = true;
      await loop;
      return { served, errors };
    },
  };
}

/**
 * The one-shot exchange with raw bytes: connect, send `bytes` and `\n`, read until the server
 * closes (our side stays open until then, so the server decides when the exchange ends).
 */
export async function exchangeBytes(port: number, bytes: Uint8Array | string, options: { timeoutMs?: number } = {}): Promise<string[]> {
  const client = await RawClient.connect(port);
  try {
    client.write(bytes);
    client.write('\n');
    return await client.waitForEnd(options.timeoutMs ?? 10_000);
  } finally {
    client.destroy();
  }
}
