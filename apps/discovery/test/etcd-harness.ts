import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { waitFor } from '@conv/testkit';

/**
 * A real etcd for one test file: its own data dir in a temp folder and its own free loopback
 * ports, so that any other etcd on the machine (Debian's service) is never touched.
 */

/** Whether the etcd binary exists. Missing outside CI: tests skip, loudly. Missing in CI: they fail. */
export function etcdPresence(): 'present' | 'skip' | 'required-but-missing' {
  const found = spawnSync('etcd', ['--version'], { stdio: 'ignore' });
  if (found.error === undefined && found.status === 0) return 'present';
  if (process.env.CI) return 'required-but-missing';
  process.stderr.write(
    '\n!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!\n' +
      '!!! SKIPPING the etcd tests: no `etcd` binary on PATH.                         !!!\n' +
      '!!! Install it (apt-get install -y --no-install-recommends etcd-server) to run them. !!!\n' +
      '!!! In CI (CI set) a missing etcd fails instead.                               !!!\n' +
      '!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!\n\n',
  );
  return 'skip';
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

export class EtcdServer {
  readonly dataDir: string;
  readonly clientPort: number;
  readonly peerPort: number;
  #child: ChildProcess | undefined;
  #output = '';

  private constructor(dataDir: string, clientPort: number, peerPort: number) {
    this.dataDir = dataDir;
    this.clientPort = clientPort;
    this.peerPort = peerPort;
  }

  /** `127.0.0.1:<port>`, as `--store etcd://...` takes it. */
  get endpoint(): string {
    return `127.0.0.1:${this.clientPort}`;
  }

  get url(): string {
    return `etcd://${this.endpoint}`;
  }

  static async start(): Promise<EtcdServer> {
    const dir = mkdtempSync(join(tmpdir(), 'conv-etcd-'));
    const server = new EtcdServer(join(dir, 'data'), await freePort(), await freePort());
    await server.restart();
    return server;
  }

  /** Starts (again) on the same data dir and ports; resolves once it reports healthy. */
  async restart(): Promise<void> {
    const client = `http://127.0.0.1:${this.clientPort}`;
    const peer = `http://127.0.0.1:${this.peerPort}`;
    this.#output = '';
    const child = spawn(
      'etcd',
      [
        '--name', 'conv-test',
        '--data-dir', this.dataDir,
        '--listen-client-urls', client,
        '--advertise-client-urls', client,
        '--listen-peer-urls', peer,
        '--initial-advertise-peer-urls', peer,
        '--initial-cluster', `conv-test=${peer}`,
        '--log-level', 'error',
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    this.#child = child;
    child.stdout.on('data', (chunk: Buffer) => (this.#output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (this.#output = (this.#output + chunk.toString()).slice(-4000)));
    await waitFor(
      async () => {
        if (child.exitCode !== null) throw new Error(`etcd exited (${child.exitCode}): ${this.#output}`);
        try {
          const response = await fetch(`${client}/health`);
          const body = (await response.json()) as { health?: string };
          return body.health === 'true';
        } catch {
          return false;
        }
      },
      { what: `etcd healthy on ${client}`, timeoutMs: 20_000 },
    );
  }

  /** SIGKILL: no clean shutdown, as a crash. */
  async kill(): Promise<void> {
    const child = this.#child;
    this.#child = undefined;
    if (child === undefined || child.exitCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGKILL');
    await exited;
  }

  async destroy(): Promise<void> {
    await this.kill();
    rmSync(join(this.dataDir, '..'), { recursive: true, force: true });
  }
}
