// Plumbing for discovery's benches: child processes that say when they are ready, the closed-loop
// load generator, line-oriented loopback connections (pipelined requests and WATCH streams), and
// what /proc says about a process.
import { type ChildProcess, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { type Socket, connect } from 'node:net';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

const children = new Set<ChildProcess>();

export type Started = { child: ChildProcess; match: RegExpExecArray };
export type StartOptions = {
  onLine?: (line: string) => void;
  onErrorLine?: (line: string) => void;
  input?: string;
  /** Close stdin after `input` (a child that reads it to the end); otherwise it stays open for commands. */
  endInput?: boolean;
};

/**
 * Spawns a process and resolves once a stdout line matches `ready`. Every stdout line also goes
 * to `onLine`; stderr is drained (a full pipe would stall the child) and its tail kept for errors.
 */
export function start(command: string, args: string[], ready: RegExp, options: StartOptions = {}): Promise<Started> {
  const { onLine = () => undefined, onErrorLine, input, endInput = false } = options;
  const child = spawn(command, args, { stdio: ['pipe', 'pipe', 'pipe'] });
  children.add(child);
  // stdin stays open: a farm takes commands on it, and sees the bench gone when it closes.
  child.stdin?.on('error', () => undefined); // a child that died early: its exit says why
  if (input !== undefined) child.stdin?.write(input);
  if (endInput) child.stdin?.end();
  child.once('exit', () => children.delete(child));
  let tail = '';
  child.stderr?.on('data', (chunk: Buffer) => (tail = (tail + chunk.toString()).slice(-2000)));
  if (onErrorLine !== undefined && child.stderr) createInterface({ input: child.stderr }).on('line', onErrorLine);
  return new Promise((resolve, reject) => {
    let started = false;
    createInterface({ input: child.stdout }).on('line', (line) => {
      onLine(line);
      const match = started ? null : ready.exec(line);
      if (match) {
        started = true;
        resolve({ child, match });
      }
    });
    child.once('exit', (code, signal) => {
      if (!started) reject(new Error(`${args.at(-1) ?? command} exited (${code ?? signal}) before it was ready:\n${tail}`));
    });
  });
}

/** A node script in a shell that first raises the file limit (each listening socket is a file). */
export function startWithFiles(files: number, args: string[], ready: RegExp, options?: StartOptions): Promise<Started> {
  return start('sh', ['-c', `ulimit -n ${files} && exec "$@"`, 'sh', process.execPath, ...args], ready, options);
}

/** Ends a child: SIGTERM, then SIGKILL if it has not exited within `graceMs`. */
export async function stop(child: ChildProcess, graceMs = 5000): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
  await exited;
  clearTimeout(timer);
}

/** Ends every child still running (see `stop`). */
export async function stopAll(): Promise<void> {
  await Promise.all([...children].map((child) => stop(child)));
}

export type LoadFigures = { rps: number; p50us: number; p99us: number; completed: number; failures: number };

/**
 * Runs load-generator.ts in its own process (so its work is not counted against the server's):
 * `connections` sessions, each sending `requests` in turn, one at a time, for `durationMs`.
 */
export async function runLoad(port: number, mode: 'lookup' | 'multi', connections: number, durationMs: number, requests: readonly string[]): Promise<LoadFigures> {
  const generator = fileURLToPath(new URL('./load-generator.ts', import.meta.url));
  const child = spawn(process.execPath, ['--import', 'tsx', generator, String(port), mode, String(connections), String(durationMs), '300', requests.join('|')], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let out = '';
  child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
  await new Promise((resolve) => child.once('exit', resolve));
  return JSON.parse(out) as LoadFigures;
}

/** Last resort (Ctrl-C, a crash): no child outlives the bench. */
export function killAll(): void {
  for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
}

/**
 * One connection to discovery, read line by line. `ask` pipelines a request and resolves with
 * its reply lines (one line, or up to the line `last` accepts); `watch` hands every line to a
 * listener instead (a WATCH stream).
 */
export class Conversation {
  readonly #socket: Socket;
  readonly #pending: { lines: string[]; last: (line: string) => boolean; resolve: (lines: string[]) => void }[] = [];
  #buffer = '';
  #listener: ((line: string) => void) | undefined;
  #head = 0;

  private constructor(socket: Socket) {
    this.#socket = socket;
    socket.setEncoding('latin1');
    socket.on('data', (chunk: string) => this.#read(chunk));
    socket.on('error', () => undefined);
  }

  static open(port: number): Promise<Conversation> {
    return new Promise((resolve, reject) => {
      const socket = connect({ host: '127.0.0.1', port, noDelay: true });
      socket.once('error', reject);
      socket.once('connect', () => resolve(new Conversation(socket)));
    });
  }

  ask(request: string, last: (line: string) => boolean = () => true): Promise<string[]> {
    return new Promise((resolve) => {
      this.#pending.push({ lines: [], last, resolve });
      this.#socket.write(`${request}\n`);
    });
  }

  watch(request: string, listener: (line: string) => void): void {
    this.#listener = listener;
    this.#socket.write(`${request}\n`);
  }

  close(): void {
    this.#socket.destroy();
  }

  #read(chunk: string): void {
    this.#buffer += chunk;
    let from = 0;
    let newline: number;
    while ((newline = this.#buffer.indexOf('\n', from)) >= 0) {
      this.#line(this.#buffer.slice(from, newline));
      from = newline + 1;
    }
    this.#buffer = this.#buffer.slice(from);
  }

  #line(line: string): void {
    if (this.#listener) return this.#listener(line);
    const request = this.#pending[this.#head];
    if (!request) return;
    request.lines.push(line);
    if (!request.last(line)) return;
    this.#head++;
    if (this.#head > 1024) {
      this.#pending.splice(0, this.#head);
      this.#head = 0;
    }
    request.resolve(request.lines);
  }
}

const CLOCK_TICKS = 100; // USER_HZ on Linux

/** CPU seconds (user + system) a process has used so far. */
export function cpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // Fields after the command name (which may hold spaces): state is field 3, utime 14, stime 15.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS;
}

/** Resident memory now and at its peak, in MB. */
export function memoryMb(pid: number): { rss: number; peak: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (name: string) => Number(new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN);
  return { rss: kb('VmRSS') / 1024, peak: kb('VmHWM') / 1024 };
}

/** The whole machine's busy and total CPU time so far (all cores), from /proc/stat. */
export function machineCpu(): { busy: number; total: number } {
  const line = readFileSync('/proc/stat', 'utf8').split('\n')[0] ?? '';
  const values = line.trim().split(/\s+/).slice(1).map(Number);
  const total = values.reduce((sum, v) => sum + v, 0);
  const idle = (values[3] ?? 0) + (values[4] ?? 0);
  return { busy: total - idle, total };
}

export const loadAverage = (): string => readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');

/** Nearest-rank percentile of sorted values. */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))] ?? NaN;
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
