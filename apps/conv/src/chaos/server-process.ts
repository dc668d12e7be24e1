import { type ChildProcess, spawn } from 'node:child_process';
import type { WriteStream } from 'node:fs';
import { parseBanner } from '@conv/server';


export type ServerState = 'down' | 'starting' | 'up' | 'stopped';

export type ServerProcessOptions = {
  readonly name: string;
  readonly script: string;
  /** The arguments for a port: 0 the first time, then the port the first banner named. */
  readonly args: (port: number) => string[];
  /** Where stdout and stderr go, for the post-mortem. */
  readonly log: WriteStream;
  /** Every stderr line, for counting log events. */
  readonly onStderrLine?: (line: string) => void;
  readonly bannerTimeoutMs?: number;
};

/**
 * One server of the system under test, started with `node <script>`, that can be SIGKILLed
 * and restarted on the same port, SIGSTOPped and SIGCONTed. Its port comes from its first
 * banner and is passed again on every restart, so peers find it where they left it.
 */
export class ServerProcess {
  #state: ServerState = 'down';
  #port = 0;
  #child: ChildProcess | undefined;
  #exited: Promise<void> = Promise.resolve();
  #starts = 0;
  /** Added to the arguments of the next starts (a liar's wrong `--factor`); [] for the real thing. */
  extraArgs: readonly string[] = [];

  constructor(readonly options: ServerProcessOptions) {}

  get name(): string {
    return this.options.name;
  }
  get state(): ServerState {
    return this.#state;
  }
  get port(): number {
    return this.#port;
  }
  get pid(): number | undefined {
    return this.#child?.pid;
  }

  /**
   * Starts the process and resolves once it listens. A restart may find its port briefly taken
   * (an outgoing connection can get a freed port as its local port), so it tries a few times.
   * Returns how many extra attempts it took.
   */
  async start(attempts = 5, onRetry?: (error: Error) => void): Promise<number> {
    for (let attempt = 0; ; attempt++) {
      try {
        await this.#startOnce();
        return attempt;
      } catch (error) {
        if (attempt + 1 >= attempts) throw error;
        onRetry?.(error instanceof Error ? error : new Error(String(error)));
        // A start cut off at its banner deadline was SIGKILLed: on a loaded machine its exit can
        // come after the retry would begin, which then found it still `starting`.
        await this.#exited;
        await sleep(200 * (attempt + 1));
      }
    }
  }

  async #startOnce(): Promise<void> {
    if (this.#state !== 'down') throw new Error(`${this.name} is ${this.#state}, not down`);
    this.#state = 'starting';
    this.#starts++;
    const child = spawn(process.execPath, [this.options.script, ...this.options.args(this.#port), ...this.extraArgs], { stdio: ['ignore', 'pipe', 'pipe'] });
    this.#child = child;
    const { log } = this.options;
    log.write(`--- ${new Date().toISOString()} start #${this.#starts} of ${this.name} (pid ${child.pid ?? '?'})\n`);
    child.stdout.pipe(log, { end: false });
    child.stderr.pipe(log, { end: false });
    let partial = '';
    child.stderr.on('data', (chunk: Buffer) => {
      if (!this.options.onStderrLine) return;
      const lines = (partial + chunk.toString('utf8')).split('\n');
      partial = lines.pop() ?? '';
      for (const line of lines) this.options.onStderrLine(line);
    });
    this.#exited = new Promise((resolve) => child.once('exit', () => resolve()));
    void this.#exited.then(() => {
      if (this.#child !== child) return;
      this.#child = undefined;
      this.#state = 'down';
    });

    await new Promise<void>((resolve, reject) => {
      let output = '';
      const timeoutMs = this.options.bannerTimeoutMs ?? 20_000;
      const timer = setTimeout(() => {
        child.kill('SIGKILL');
        reject(new Error(`${this.name} printed no banner within ${timeoutMs} ms:\n${output}`));
      }, timeoutMs);
      const onData = (chunk: Buffer) => {
        output += chunk.toString('utf8');
        const address = parseBanner(output);
        if (!address) return;
        clearTimeout(timer);
        child.stdout.off('data', onData);
        child.stderr.off('data', onData);
        this.#port = address.port;
        this.#state = 'up';
        resolve();
      };
      child.stdout.on('data', onData);
      child.stderr.on('data', onData);
      void this.#exited.then(() => {
        clearTimeout(timer);
        reject(new Error(`${this.name} exited before listening:\n${output.trim()}`));
      });
    });
  }

  /** SIGKILL, and resolves once the process is gone. */
  async kill(): Promise<void> {
    const child = this.#child;
    if (!child) return;
    child.kill('SIGKILL');
    await this.#exited;
  }

  /** SIGSTOP: the process keeps its sockets (the kernel still accepts connections) but runs nothing. */
  pause(): void {
    if (this.#state !== 'up') return;
    this.#child?.kill('SIGSTOP');
    this.#state = 'stopped';
  }

  resume(): void {
    if (this.#state !== 'stopped') return;
    this.#child?.kill('SIGCONT');
    this.#state = 'up';
  }

  /** SIGCONT if stopped, SIGTERM, then SIGKILL after `graceMs`; resolves once it has exited. */
  async shutdown(graceMs = 5000): Promise<void> {
    const child = this.#child;
    if (!child) return;
    if (this.#state === 'stopped') this.resume();
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
    await this.#exited;
    clearTimeout(timer);
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
