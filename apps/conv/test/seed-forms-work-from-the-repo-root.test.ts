import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { exchange, freePort, repoPath, startServer, stopAll, waitFor } from '@conv/testkit';
import { afterAll, describe, expect, it } from 'vitest';

// The seeds start the system as `discovery 5555`, `proxy 5556 127.0.0.1 5555` and one
// `converter <port> <unit1> <unit2>` per pair. The same words, typed from the repository root
// (bin/...), on free ports: other tests on this machine may hold 5555-5557.
const ROOT = repoPath();
const scratch = mkdtempSync(join(tmpdir(), 'conv-seed-forms-'));

afterAll(async () => {
  await stopAll();
  rmSync(scratch, { recursive: true, force: true });
});

describe("the seed's forms, from the repository root", { timeout: 60_000 }, () => {
  it('discovery <port>, converter <port> b in, proxy <port> 127.0.0.1 <discovery-port>: a question is answered', async () => {
    // discovery writes discovery.db where it runs: a scratch folder here, through the repository's bin.
    const discovery = await startServer(join(ROOT, 'bin/discovery'), [String(await freePort())], { cwd: scratch, timeoutMs: 30_000 });
    expect(discovery.banner).toMatch(/^discovery listening on 127\.0\.0\.1:\d+ \(loopback only/);
    const converterPort = await freePort();
    const converter = await startServer('bin/converter', [String(converterPort), 'b', 'in', '--discovery', `127.0.0.1:${discovery.port}`], { cwd: ROOT, timeoutMs: 30_000 });
    expect(converter.banner).toMatch(new RegExp(`^converter b <-> in listening on 127\\.0\\.0\\.1:${converterPort} `));
    expect(converter.banner).not.toMatch(/default pair/);
    const proxy = await startServer('bin/proxy', [String(await freePort()), '127.0.0.1', String(discovery.port)], { cwd: ROOT, timeoutMs: 30_000 });
    // Admitted once discovery's probe has seen it answer.
    const answer = await waitFor(
      async () => {
        const lines = await exchange(proxy.port, 'b in 1');
        return /^[0-9.]+$/.test(lines.at(-1) ?? '') ? lines.at(-1) : undefined;
      },
      { what: 'the proxy to answer b in 1', timeoutMs: 30_000 },
    );
    // A medium banana is 7.4375 in long (the catalog's default fact).
    expect(answer).toBe('7.4375');
  });

  it('converter with no pair or port: ft <-> in on a free port, and its banner says that is the default', async () => {
    // --no-register only so as not to announce itself to whatever discovery holds 5555 on this machine.
    const converter = await startServer('bin/converter', ['--no-register'], { cwd: ROOT, timeoutMs: 30_000 });
    expect(converter.banner).toMatch(/^converter ft <-> in listening on 127\.0\.0\.1:\d+ \(.*ft:in is the default pair; "converter <port> <unit1> <unit2>" serves another\)$/);
    expect(converter.port).toBeGreaterThan(0);
  });
});
