import { type ChildProcess, spawn } from 'node:child_process';
import { type WriteStream, closeSync, createWriteStream, fstatSync, openSync, readSync } from 'node:fs';
import { availableParallelism, loadavg } from 'node:os';
import { join } from 'node:path';
import { parseBanner } from '@conv/server';
import { type MachineLoad, type StartFailure, type StartLimit, describeStartFailure, startLimit } from './start-budget';
import type { ProcessSpec } from './system';

export type Running = {
  readonly spec: ProcessSpec;
  readonly child: ChildProcess;
  port: number;
  readonly restarts: number;
  /** When it was spawned and when its banner came (performance.now()), for the start-up report. */
  readonly spawnedAt: number;
  listeningAt?: number;
};

export type SupervisorOptions = {
  /** The built entry point for each role. */
  script: (spec: ProcessSpec) => string;
  logDir: string;
  /** Restart a process that exits on its own (not when we stop it). */
  restart: boolean;
  say: (line: string) => void;
  /** Called whenever a process starts listening (first start or restart). */
  onListening?: (processes: readonly Running[]) => void;
  /** Spawn-to-banner limit on an idle machine; stretched by the machine's load (see startLimit). */
  startTimeoutMs: number;
  /** Processes starting (spawned, no banner yet) at once, at most: start-up is CPU-bound. */
  concurrency: number;
  /** The machine's load, sampled at each spawn. */
  machine?: () => MachineLoad;
};


/** Backoff before restart n (0-based): 0.25 s, 0.5 s, 1 s, ... capped at 5 s. */
export function restartDelayMs(restarts: number): number {
  return Math.min(5000, 250 * 2 ** restarts);
}

export const machineLoad = (): MachineLoad => ({ cpus: availableParallelism(), load1: loadavg()[0] ?? 0 });

/** Thrown by `start` once `stop` has begun: nothing new is spawned while the system stops. */
export class SupervisorStopping extends Error {
  override readonly name = 'SupervisorStopping';
}

/**
 * Runs the system's processes. Each is spawned in its own process group (a terminal's Ctrl-C
 * reaches `conv up` alone, which then stops them in order) with an IPC channel whose close tells
 * it `conv up` is gone, even killed (see stopWhenSupervisorLeaves in @conv/observability). A few
 * start at a time, each waited for until its banner within a limit that grows with the machine's
 * load. Their output goes to `<logDir>/<name>.log` (stderr straight to the file, so it outlives
 * us); a process that dies on its own is restarted on the same port.
 */
export class Supervisor {
  readonly #running = new Map<string, Running>();
  readonly #logs = new Map<string, WriteStream>();
  readonly #waiting: (() => void)[] = [];
  #starting = 0;
  #stopping = false;

  constructor(private readonly options: SupervisorOptions) {}

  get processes(): readonly Running[] {
    return [...this.#running.values()];
  }

  get stopping(): boolean {
    return this.#stopping;
  }

  /** Starts `spec` and resolves once it is listening; rejects with what to try if it does not. */
  async start(spec: ProcessSpec, port = spec.port, restarts = 0): Promise<Running> {
    const release = await this.#slot();
    try {
      if (this.#stopping) throw new SupervisorStopping(`${spec.name} not started: the system is stopping`);
      return await this.#spawn(spec, port, restarts);
    } finally {
      release();
    }
  }

  /** Stops processes group by group (SIGTERM, then SIGKILL after `graceMs`), in the order given. */
  async stop(groups: readonly (readonly Running[])[], graceMs = 5000): Promise<void> {
    this.#stopping = true;
    for (const group of groups) {
      await Promise.all(group.map((entry) => stopChild(entry.child, graceMs)));
    }
    // A process still starting when the stop began is in none of the groups the caller took.
    await Promise.all(this.processes.map((entry) => stopChild(entry.child, graceMs)));
    await Promise.all([...this.#logs.values()].map((log) => new Promise((resolve) => log.end(resolve))));
  }

  async #spawn(spec: ProcessSpec, port: number, restarts: number): Promise<Running> {
    const logPath = join(this.options.logDir, `${spec.name.replace(/[^A-Za-z0-9$.-]+/g, '-')}.log`);
    const log = this.#log(spec.name, logPath);
    const machine = (this.options.machine ?? machineLoad)();
    const limit = startLimit(this.options.startTimeoutMs, machine, this.#starting);
    const stderr = openSync(logPath, 'a');
    let child: ChildProcess;
    try {
      child = spawn(process.execPath, [this.options.script(spec), ...spec.args(port)], {
        stdio: ['ignore', 'pipe', stderr, 'ipc'],
        detached: true,
      });
    } finally {
      closeSync(stderr);
    }
    const entry: Running = { spec, child, port, restarts, spawnedAt: performance.now() };
    this.#running.set(spec.name, entry);
    child.stdout?.pipe(log, { end: false });

    const outcome = await this.#banner(child, limit, machine);
    if (typeof outcome !== 'number') {
      if (outcome.kind === 'no-banner') await stopChild(child, 0);
      // Our copy of its stdout is written before the file is read: the message shows all of it.
      await new Promise((resolve) => log.write('', resolve));
      throw new Error(describeStartFailure(spec.name, outcome, { path: logPath, text: readTail(logPath) }));
    }
    entry.port = outcome;
    entry.listeningAt = performance.now();
    child.once('exit', (code, signal) => this.#exited(entry, code ?? signal ?? 'unknown'));
    this.options.onListening?.(this.processes);
    return entry;
  }

  /** The port from its banner, or why there was none. */
  #banner(child: ChildProcess, limit: StartLimit, machine: MachineLoad): Promise<number | StartFailure> {
    const spawnedAt = performance.now();
    return new Promise((resolve) => {
      let printed = '';
      const settle = (outcome: number | StartFailure) => {
        clearTimeout(timer);
        child.stdout?.off('data', onData);
        child.off('exit', onExit);
        resolve(outcome);
      };
      const timer = setTimeout(
        () => settle({ kind: 'no-banner', waitedMs: performance.now() - spawnedAt, baseMs: this.options.startTimeoutMs, limit, machine }),
        limit.ms,
      );
      const onData = (chunk: Buffer) => {
        printed += chunk.toString('utf8');
        const address = parseBanner(printed);
        if (address) settle(address.port);
      };
      const onExit = (code: number | null, signal: NodeJS.Signals | null) => settle({ kind: 'exited', how: code ?? signal ?? 'unknown' });
      child.stdout?.on('data', onData);
      child.once('exit', onExit);
    });
  }

  /** A start slot; when all are taken, the next one freed is handed over directly, in order. */
  async #slot(): Promise<() => void> {
    if (this.#starting < this.options.concurrency) this.#starting++;
    else await new Promise<void>((resolve) => this.#waiting.push(resolve));
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const next = this.#waiting.shift();
      if (next) next();
      else this.#starting--;
    };
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
        (error: Error) => {
          if (!this.#stopping) this.#restart(spec, port, restarts + 1, `restart failed: ${error.message.split('\n')[0]}`);
        },
      );
    }, delay);
  }

  #log(name: string, path: string): WriteStream {
    let log = this.#logs.get(name);
    if (!log) {
      log = createWriteStream(path, { flags: 'a' });
      this.#logs.set(name, log);
    }
    return log;
  }
}

/** The end of a log file (its last 16 KB), for an error message; empty if there is none. */
function readTail(path: string, bytes = 16 * 1024): string {
  try {
    const fd = openSync(path, 'r');
    try {
      const size = fstatSync(fd).size;
      const buffer = Buffer.alloc(Math.min(size, bytes));
      readSync(fd, buffer, 0, buffer.length, size - buffer.length);
      return buffer.toString('utf8');
    } finally {
      closeSync(fd);
    }
  } catch {
    return '';
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
    child.kill(graceMs === 0 ? 'SIGKILL' : 'SIGTERM');
  });
}
