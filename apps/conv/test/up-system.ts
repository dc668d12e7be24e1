// Shared by the `conv up` tests: start a small system, read who is where, ask discovery.
import { mkdtempSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ListedRegistration } from '@conv/protocol';
import { type ServerProcess, repoPath, startServer } from '@conv/testkit';
import { askDiscovery } from '@conv/server';

export const CONV = repoPath('apps/conv/dist/main.js');

export type ProcessRow = { name: string; pid: number; port: number };

export type UpSystem = {
  readonly conv: ServerProcess;
  readonly dataDir: string;
  readonly dbPath: string;
  /** processes.json as it is now (conv up rewrites it whenever a process starts listening). */
  processes(): ProcessRow[];
  process(name: string): ProcessRow;
};

/**
 * `conv up` with few processes, every port chosen by the system, quick health checks. Limits
 * are generous: these tests must pass on a busy machine, only slower.
 */
export async function startUp(pairs: string, options: { detached?: boolean } = {}): Promise<UpSystem> {
  const dataDir = mkdtempSync(join(tmpdir(), 'conv-up-'));
  const conv = await startServer(
    CONV,
    ['up', '--pairs', pairs, '--replicas', '1', '--discovery-port', '0', '--proxy-port', '0', '--converter-port', '0', '--data-dir', dataDir, '--check-interval', '200ms', '--start-timeout', '60s', '--ready-timeout', '90s'],
    { timeoutMs: 120_000, detached: options.detached ?? false },
  );
  const processes = (): ProcessRow[] => JSON.parse(readFileSync(join(dataDir, 'processes.json'), 'utf8')) as ProcessRow[];
  return {
    conv,
    dataDir,
    dbPath: join(dataDir, 'discovery.db'),
    processes,
    process(name) {
      const row = processes().find((p) => p.name === name);
      if (!row) throw new Error(`no ${name} in processes.json: ${JSON.stringify(processes())}`);
      return row;
    },
  };
}

/** Discovery's LIST, or undefined while it does not answer (restarting). */
export async function listRegistry(port: number): Promise<readonly ListedRegistration[] | undefined> {
  const reply = await askDiscovery({ host: '127.0.0.1', port }, { verb: 'LIST' }, { timeoutMs: 2000 }).catch(() => undefined);
  return reply?.kind === 'list' ? reply.registrations : undefined;
}

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** True if nothing listens on 127.0.0.1:port: we can listen there ourselves. */
export function isPortFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

/**
 * SIGKILLs what is left of a system after a failed test. Only processes still running one of
 * this checkout's apps: a pid from processes.json may since have been reused by anyone.
 */
export function killLeftovers(system: UpSystem | undefined): void {
  let rows: ProcessRow[] = [];
  try {
    rows = system?.processes() ?? [];
  } catch {
    return;
  }
  for (const row of rows) {
    let command = '';
    try {
      command = readFileSync(`/proc/${row.pid}/cmdline`, 'utf8');
    } catch {
      continue;
    }
    if (command.includes(repoPath('apps'))) process.kill(row.pid, 'SIGKILL');
  }
}
