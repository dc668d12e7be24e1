/**
 * HAProxy as the reference for one hop (issue 20): TCP mode, round robin, one thread, in front
 * of the same converters the proxy uses. Debian's `haproxy` package; when it is not installed
 * the benchmark says how to get it and skips the comparison rather than failing.
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '@conv/testkit';

export const HAPROXY_HOW = 'apt-get install haproxy (Debian), then run the benchmark again';

/** The haproxy binary's version line, or undefined when there is none on the PATH. */
export function haproxyVersion(): string | undefined {
  const run = spawnSync('haproxy', ['-v'], { encoding: 'utf8' });
  if (run.error || run.status !== 0) return undefined;
  return run.stdout.split('\n')[0]?.trim();
}

/**
 * Starts haproxy in the foreground in front of `backends` and resolves with its port once it
 * accepts connections. The limits mirror the proxy's defaults (1,024 clients at once, listen
 * backlog 4,096) so that neither side wins by a setting.
 */
export async function startHaproxy(backends: readonly number[], children: ChildProcess[]): Promise<number> {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'conv-haproxy-'));
  const config = join(dir, 'haproxy.cfg');
  writeFileSync(
    config,
    [
      'global',
      '  nbthread 1',
      '  maxconn 4096',
      'defaults',
      '  mode tcp',
      '  timeout connect 5s',
      '  timeout client 30s',
      '  timeout server 30s',
      'frontend conv',
      `  bind 127.0.0.1:${port}`,
      '  maxconn 1024',
      '  backlog 4096',
      '  default_backend converters',
      'backend converters',
      '  balance roundrobin',
      ...backends.map((backend, index) => `  server c${index + 1} 127.0.0.1:${backend}`),
      '',
    ].join('\n'),
  );
  const child = spawn('haproxy', ['-db', '-f', config], { stdio: ['ignore', 'ignore', 'pipe'] });
  children.push(child);
  let errors = '';
  child.stderr?.on('data', (chunk: Buffer) => (errors += chunk.toString()));
  const deadline = Date.now() + 15_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`haproxy exited (${child.exitCode}):\n${errors}`);
    if (await accepts(port)) return port;
    if (Date.now() > deadline) throw new Error(`haproxy did not listen on ${port} within 15 s:\n${errors}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

async function accepts(port: number): Promise<boolean> {
  const { connect } = await import('node:net');
  return new Promise((resolve) => {
    const socket = connect({ port, host: '127.0.0.1' });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}
