import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { APP, type FakeConverter, LineClient, repoPath, startFakeConverter, startServer, stopAll, waitFor } from '@conv/testkit';
import { afterEach, describe, expect, it } from 'vitest';
import { StatusReportSchema } from '@conv/protocol';

const CONV = repoPath('apps/conv/dist/main.js');
const run = promisify(execFile);

const converters: FakeConverter[] = [];
afterEach(async () => {
  await Promise.all(converters.splice(0).map((c) => c.close()));
  await stopAll();
});

/** One request to discovery on its own connection; the first reply line. */
async function ask(port: number, line: string): Promise<string> {
  const client = await LineClient.connect(port);
  try {
    return (await client.request(line))[0] ?? '';
  } finally {
    client.close();
  }
}

/** `conv status ...`: exit code, stdout and stderr, whatever the exit code. */
async function convStatus(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, [CONV, 'status', ...args], { timeout: 20_000 });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const failed = error as { code: number; stdout: string; stderr: string };
    return { code: failed.code, stdout: failed.stdout, stderr: failed.stderr };
  }
}

async function discoveryWithPools() {
  const discovery = await startServer(APP.discovery, ['0', '--db', ':memory:', '--http-port', '0', '--check-interval', '100ms', '--fail-threshold', '1']);
  const http = await waitFor(
    () => {
      const line = discovery.output().split('\n').find((l) => l.includes('"msg":"http-listening"'));
      return line === undefined ? undefined : new URL((JSON.parse(line) as { url: string }).url).host;
    },
    { what: "discovery's http address", timeoutMs: 10_000 },
  );
  const ftIn = await startFakeConverter({ units: ['ft', 'in'], factor: 12 });
  const inCm = await startFakeConverter({ units: ['in', 'cm'], factor: 2.54 });
  converters.push(ftIn, inCm);
  for (const c of [ftIn, inCm]) expect(await ask(discovery.port, `ADD ${c.units[0]} ${c.units[1]} 127.0.0.1 ${c.port}`)).toBe('SUCCESS');
  return { discovery, http, ftIn, inCm };
}

describe('conv status', () => {
  it('prints every pool and endpoint with health, last check, served and the round-robin position, and the unit graph', async () => {
    const { discovery, http, ftIn, inCm } = await discoveryWithPools();
    // Both up (not merely listed, maybe still pending), as the lines below are judged.
    await waitFor(async () => /ft\/in\s+127\.0\.0\.1:\d+\s+up/.test((await convStatus('--http', http)).stdout) && /cm\/in\s+127\.0\.0\.1:\d+\s+up/.test((await convStatus('--http', http)).stdout), {
      what: 'both endpoints up in conv status',
      timeoutMs: 15_000,
    });
    expect(await ask(discovery.port, 'LOOKUP ft in')).toBe(`127.0.0.1 ${ftIn.port}`);
    const { code, stdout } = await convStatus('--http', http);
    expect(code).toBe(0);
    const lines = stdout.split('\n');
    expect(lines[0]).toMatch(new RegExp(`^discovery 127\\.0\\.0\\.1:${discovery.port}: 2 pools, 2 endpoints \\(2 up, 0 down, 0 pending\\)`));
    expect(lines).toContainEqual(expect.stringMatching(/^PAIR\s+ENDPOINT\s+HEALTH\s+LAST CHECK\s+SERVED\s+ROUND ROBIN$/));
    expect(lines).toContainEqual(expect.stringMatching(new RegExp(`^ft/in\\s+127\\.0\\.0\\.1:${ftIn.port}\\s+up\\s+\\d+(\\.\\d)? s ago\\s+1\\s+<- next$`)));
    expect(lines).toContainEqual(expect.stringMatching(new RegExp(`^cm/in\\s+127\\.0\\.0\\.1:${inCm.port}\\s+up\\s+.*ago\\s+0\\s+<- next$`)));
    expect(lines).toContainEqual(expect.stringMatching(/^Unit graph: 3 units, 2 pairs, 0 dead$/));
    expect(lines).toContainEqual(expect.stringMatching(/^\s+in\s+-- cm, ft$/));

    await inCm.close();
    await waitFor(async () => (await convStatus('--http', http)).stdout.includes('cm/in (dead)'), { what: 'the dead pool in conv status', timeoutMs: 15_000 });
    const dead = (await convStatus('--http', http)).stdout;
    expect(dead).toMatch(new RegExp(`cm/in \\(dead\\)\\s+127\\.0\\.0\\.1:${inCm.port}\\s+down`));
    expect(dead).toMatch(/Unit graph: 3 units, 2 pairs, 1 dead/);
    expect(dead).toMatch(/^\s+cm\s+-- in \(dead\)$/m);
  }, 60_000);

  it('prints JSON for scripts with --json', async () => {
    const { http, ftIn } = await discoveryWithPools();
    const { code, stdout } = await convStatus('--http', http, '--json');
    expect(code).toBe(0);
    const report = StatusReportSchema.parse(JSON.parse(stdout));
    expect(report.counts.endpoints).toBe(2);
    expect(report.pools.map((pool) => pool.pair)).toEqual([['ft', 'in'], ['cm', 'in']]);
    expect(report.pools[0]?.endpoints[0]).toMatchObject({ address: `127.0.0.1:${ftIn.port}`, host: '127.0.0.1', port: ftIn.port });
    expect(report.graph.units).toEqual(['cm', 'ft', 'in']);
  }, 30_000);

  it('exits 1 with one line when nothing answers, and 2 for a bad --http', async () => {
    const nothing = await convStatus('--http', '127.0.0.1:9', '--timeout', '2000');
    expect(nothing.code).toBe(1);
    expect(nothing.stderr).toMatch(/^conv status: cannot reach http:\/\/127\.0\.0\.1:9\/status\.json .*\n$/);
    const bad = await convStatus('--http', 'nowhere');
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/^conv status: --http must be <host>:<port>/);
  }, 30_000);
});
