import { type ChildProcess, spawn } from 'node:child_process';
import { type WriteStream, createWriteStream } from 'node:fs';
import { join } from 'node:path';
import type { ProcessSpec } from './system';
import { parseBanner } from '@conv/server';

export type Running = { spec: ProcessSpec; child: ChildProcess; port: number; restarts: number };

export type SupervisorOptions = {
  /** The built entry point for each role. */
  script: (spec: ProcessSpec) => string;
  logDir: string;
  /** Restart a process that exits on its own (not when we stop it). */
  restart: boolean;
  say: (line: string) => void;
  /** Called whenever a process starts listening (first start or restart). */
  onListening?: (processes: readonly Running[]) => void;
  bannerTimeoutMs?: number;
};


/** Backoff before restart n (0-based): 0.25 s, 0.5 s, 1 s, ... capped at 5 s. */
export function restartDelayMs(restarts: number): number {
  return Math.min(5000, 250 * 2 ** restarts);
}

/**
 * Runs the system's processes: starts each one and waits for its banner, writes its output
 * to `<logDir>/<name>.log`, restarts it (on the same port) when it dies on its own, and stops
 * them on request.
 */
export class Supervisor {
  readonly #running = new Map<string, Running>();
  readonly #logs = new Map<string, WriteStream>();
  #stopping = false;

  constructor(private readonly options: SupervisorOptions) {}

  get processes(): readonly Running[] {
    return [...this.#running.values()];
  }

  /** Starts `spec` and resolves once it is listening; rejects with its output if it exits first. */
  async start(spec: ProcessSpec, port = spec.port, restarts = 0): Promise<Running> {
    const log = this.#log(spec);
    const child = spawn(process.execPath, [this.options.script(spec), ...spec.args(port)], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const entry: Running = { spec, child, port, restarts };
    this.#running.set(spec.name, entry);
    child.stdout.pipe(log, { end: false });
    child.stderr.pipe(log, { end: false });

    const listening = await new Promise<number>((resolve, reject) => {
      let output = '';
      const timeoutMs = this.options.bannerTimeoutMs ?? 15_000;
      const timer = setTimeout(() => reject(new Error(`${spec.name} printed no banner within ${timeoutMs} ms:\n${output}`)), timeoutMs);
      const onData = (chunk: Buffer) => {
        output += chunk.toString('utf8');
        const address = parseBanner(output);
        if (!address) return;
        clearTimeout(timer);
        child.stdout.off('data', onData);
        child.stderr.off('data', onData);
        resolve(address.port);
      };
      child.stdout.on('data', onData);
      child.stderr.on('data', onData);
      child.once('exit', (code, signal) => {
        clearTimeout(timer);
        reject(new Error(`${spec.name} exited (${code ?? signal}) before listening:\n${output.trim()}`));
      });
    });
    entry.port = listening;
    child.once('exit', (code, signal) => this.#exited(entry, code ?? signal ?? 'unknown'));
    this.options.onListening?.(this.processes);
    return entry;
  }

  /** Stops processes group by group (SIGTERM, then SIGKILL after `graceMs`), in the order given. */
  async stop(groups: readonly (readonly Running[])[], graceMs = 5000): Promise<void> {
    this.#stopping = true;
    for (const group of groups) {
      await Promise.all(group.map((entry) => stopChild(entry.child, graceMs)));
    }
    await Promise.all([...this.#logs.values()].map((log) => new Promise((resolve) => log.end(resolve))));
  }

  #exited(entry: Running, how: number | string): void {
    if (this.#stopping || this.#running.get(entry.spec.name) !== entry) return;
    if (!this.options.restart) {
      this.options.say(`${entry.spec.name} exited (${how}); not restarting (--no-restart).`);
      return;
    }
    this.#restart(entry.spec, entry.port, entry.restarts, how);
  }

  #restart(spec: ProcessSpec, port: number, restarts: number, how: number | string): void {
    const delay = restartDelayMs(restarts);
    this.options.say(`${spec.name} exited (${how}); restarting on port ${port} in ${delay} ms.`);
    setTimeout(() => {
      if (this.#stopping) return;
      this.start(spec, port, restarts + 1).then(
        (again) => this.options.say(`${spec.name} is back (pid ${again.child.pid}).`),
        (error: Error) => this.#restart(spec, port, restarts + 1, `restart failed: ${error.message.split('\n')[0]}`),
      );
    }, delay);
  }

  #log(spec: ProcessSpec): WriteStream {
    let log = this.#logs.get(spec.name);
    if (!log) {
      log = createWriteStream(join(this.options.logDir, `${spec.name.replace(/[^A-Za-z0-9$.-]+/g, '-')}.log`), { flags: 'a' });
      this.#logs.set(spec.name, log);
    }
    return log;
  }
}

function stopChild(child: ChildProcess, graceMs: number): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve();
    const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
    child.kill('SIGTERM');
  });
}
