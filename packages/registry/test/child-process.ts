import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterEach } from 'vitest';

const packageDir = fileURLToPath(new URL('..', import.meta.url));

export type Child = {
  process: ChildProcess;
  lines: string[];
  stderr: () => string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
};

/** Children spawned in a test are killed (by pid) after it, whatever happened. */
export function useChildren(): (fixture: string, args: string[]) => Child {
  const children: ChildProcess[] = [];
  afterEach(() => {
    for (const child of children.splice(0)) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });
  return (fixture, args) => {
    const child = spawn(process.execPath, ['--import', 'tsx', '--conditions=@conv/source', `test/fixtures/${fixture}`, ...args], {
      cwd: packageDir,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    children.push(child);
    const lines: string[] = [];
    let partial = '';
    let errors = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      const parts = (partial + chunk).split('\n');
      partial = parts.pop() ?? '';
      lines.push(...parts);
    });
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => void (errors += chunk));
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
      // 'close' fires after stdout is drained, so `lines` then holds everything the child wrote.
      child.on('close', (code, signal) => resolve({ code, signal }));
    });
    return { process: child, lines, stderr: () => errors, exited };
  };
}

/** Polls until `condition` holds, failing at the deadline: waits on a condition, never a fixed time. */
export async function until(condition: () => boolean, what: string, deadlineMs = 20_000): Promise<void> {
  const deadline = Date.now() + deadlineMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`Timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}
