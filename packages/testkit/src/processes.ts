import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { parseBanner } from '@conv/server';

/** An absolute path inside the repository. */
export function repoPath(...segments: string[]): string {
  return fileURLToPath(new URL(`../../../${segments.join('/')}`, import.meta.url));
}

/** The built entry point of each app (tests run what users run; `pnpm test` builds first). */
export const APP = {
  discovery: repoPath('apps/discovery/dist/main.js'),
  converter: repoPath('apps/converter/dist/main.js'),
  proxy: repoPath('apps/proxy/dist/main.js'),
} as const;

export type ServerProcess = {
  readonly child: ChildProcess;
  /** The address from the banner: every conv server prints `listening on <host>:<port>`. */
  readonly host: string;
  readonly port: number;
  readonly banner: string;
  /** Everything printed so far, stdout and stderr interleaved. */
  output(): string;
  /** Resolves with the exit code (or the signal's name) once the process has ended and its output is all read. */
  readonly exited: Promise<number | string>;
  kill(signal?: NodeJS.Signals): void;
  /** Sends `signal` (default SIGTERM) and waits for the exit. */
  stop(signal?: NodeJS.Signals): Promise<number | string>;
};

const running = new Set<ChildProcess>();


/**
 * Starts `node <script> ...args` (or `<script> ...args` for a command that is not a .js file) and resolves once it prints its banner. Rejects with the
 * process output if it exits first or the banner does not come within `timeoutMs`. The default
 * (45 s, under the 60 s test timeout) fits a node start beside two CPU burners and another test
 * file: it only ever costs time when the process never starts.
 */
export function startServer(
  script: string,
  args: readonly string[],
  options: {
    timeoutMs?: number;
    env?: NodeJS.ProcessEnv;
    /** In a process group of its own (its pid is the group's id), as a terminal runs a command. */
    detached?: boolean;
    /** The working directory; a relative `script` that is a command (bin/discovery) is found from here. */
    cwd?: string;
  } = {},
): Promise<ServerProcess> {
  const { timeoutMs = 45_000, env, detached = false, cwd } = options;
  // A JavaScript file runs under this node; anything else is a command as people type it (bin/proxy).
  const [command, argv] = /\.[cm]?js$/.test(script) ? [process.execPath, [script, ...args]] : [script, [...args]];
  const child = spawn(command, argv, {
    cwd,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached,
  });
  running.add(child);
  let out = '';
  // 'close', not 'exit': 'close' comes once stdout and stderr are drained too, so whoever awaits
  // `exited` sees everything the process printed (its last log lines included).
  const exited = new Promise<number | string>((resolve) => {
    child.once('close', (code, signal) => {
      running.delete(child);
      resolve(code ?? signal ?? 'unknown');
    });
  });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`no banner within ${timeoutMs} ms from ${script}:\n${out}`));
    }, timeoutMs);
    const onData = (chunk: Buffer) => {
      out += chunk.toString('utf8');
      const address = parseBanner(out);
      if (!address) return;
      clearTimeout(timer);
      const banner = out.split('\n').find((line) => parseBanner(line) !== undefined) ?? '';
      resolve({
        child,
        host: address.host,
        port: address.port,
        banner,
        output: () => out,
        exited,
        kill: (signal = 'SIGKILL') => void child.kill(signal),
        stop: (signal = 'SIGTERM') => {
          child.kill(signal);
          return exited;
        },
      });
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`${script} exited (${code}) before its banner:\n${out}`));
    });
  });
}

/** Kills every process started by this file that is still running; for afterEach/afterAll. */
export async function stopAll(): Promise<void> {
  const children = [...running];
  await Promise.all(
    children.map(
      (child) =>
        new Promise<void>((resolve) => {
          if (!running.has(child)) return resolve();
          child.once('close', () => resolve());
          child.kill('SIGKILL');
        }),
    ),
  );
}
