import { spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { APP, LineClient, findLog, startFakeConverter, stopAll, waitFor } from '@conv/testkit';
import { afterEach, describe, expect, it } from 'vitest';
import { ask, startDiscovery, startProxy, waitUp } from './system';

afterEach(stopAll);

function run(args: readonly string[]): Promise<{ code: number | null; stderr: string; stdout: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [APP.proxy, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    let stdout = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    // 'close': after the exit, once stdout and stderr are drained (on 'exit' the last lines may be missing).
    child.on('close', (code) => resolve({ code, stderr, stdout }));
  });
}

describe('the proxy process', () => {
  it.each([
    [['--port', 'x'], /^proxy: --port must be a whole number from 0 to 65535, got "x"\n$/],
    [['--hop-timeout', 'soon'], /^proxy: --hop-timeout must be a duration such as 500ms, 2s or 1m, above 0/],
    [['--nonsense'], /^proxy: unknown option --nonsense; see --help\n$/],
    [['5556', '127.0.0.1', 'x'], /^proxy: --discovery must be <host>:<port>/],
  ])('exits 2 with one line for bad usage %j', async (args, message) => {
    const { code, stderr } = await run(args);
    expect(code).toBe(2);
    expect(stderr).toMatch(message);
    expect(stderr.trimEnd().split('\n')).toHaveLength(1);
  });

  it('prints help and exits 0', async () => {
    const { code, stdout } = await run(['--help']);
    expect(code).toBe(0);
    expect(stdout).toMatch(/--stale-ttl/);
  });

  it('exits 1 with one clear line when its port is in use', async () => {
    const holder = createServer();
    await new Promise<void>((resolve) => holder.listen(0, '127.0.0.1', resolve));
    const address = holder.address();
    const port = address !== null && typeof address === 'object' ? address.port : 0;
    try {
      const { code, stderr } = await run(['--port', String(port)]);
      expect(code).toBe(1);
      expect(stderr).toMatch(new RegExp(`^proxy: cannot listen: 127\\.0\\.0\\.1:${port} is already in use\\n$`));
    } finally {
      holder.close();
    }
  });

  it('exits 0 on SIGTERM, closing its idle clients', async () => {
    const discovery = await startDiscovery();
    const proxy = await startProxy(discovery);
    const client = await LineClient.connect(proxy.port);
    await client.nextLine();
    expect(await proxy.stop('SIGTERM')).toBe(0);
    await client.closed;
    expect(findLog(proxy.output(), 'info', 'stopped')).toBeDefined();
  });

  it('refuses a client over --max-connections with TOO_MANY_CONNECTIONS', async () => {
    const discovery = await startDiscovery();
    const proxy = await startProxy(discovery, ['--max-connections', '1']);
    const first = await LineClient.connect(proxy.port);
    await first.nextLine();
    const second = await LineClient.connect(proxy.port);
    await second.closed;
    expect(second.lines).toEqual([expect.stringMatching(/^FAILURE too many connections\. .*\(TOO_MANY_CONNECTIONS\)$/)]);
    first.close();
  });

  it('closes a silent client with IDLE_TIMEOUT', async () => {
    const discovery = await startDiscovery();
    const proxy = await startProxy(discovery, ['--idle-timeout', '200ms']);
    const client = await LineClient.connect(proxy.port);
    await client.closed;
    expect(client.lines).toEqual(['HELLO proxy - send "<from> <to> <amount>"', expect.stringMatching(/\(IDLE_TIMEOUT\)$/)]);
  });

  it('talks to a course-style converter that does not speak PERSIST', async () => {
    const discovery = await startDiscovery();
    const fake = await startFakeConverter({ units: ['kg', 'g'], factor: 1000 });
    try {
      const admin = await LineClient.connect(discovery.port);
      expect(await admin.request(`ADD kg g 127.0.0.1 ${fake.port}`)).toEqual(['SUCCESS']);
      admin.close();
      await waitUp(discovery, 1);
      const proxy = await startProxy(discovery);
      expect(await ask(proxy, 'kg g 2')).toBe('2000');
      expect(await ask(proxy, 'g kg 500')).toBe('0.5');
      await waitFor(() => fake.requests.includes('g kg 500'), { what: 'the fake converter to have been asked' });
    } finally {
      await fake.close();
    }
  });
});
