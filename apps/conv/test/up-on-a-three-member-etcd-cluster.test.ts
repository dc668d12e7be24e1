import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { type ServerProcess, describeWithEtcd, repoPath, startServer, stopAll, waitFor, listRegistrations } from '@conv/testkit';
import { afterAll, expect, it } from 'vitest';

// `conv etcd --members 3` for demos and tests, and `conv up --store etcd://a,b,c` on it: what
// the README tells users to type, run as they would (the built CLI, real etcd processes).
const CONV = repoPath('apps/conv/dist/main.js');
const run = promisify(execFile);

const list = listRegistrations;

describeWithEtcd('conv etcd --members 3, then conv up --store etcd://a,b,c', { timeout: 120_000 }, () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'conv-etcd-cluster-'));
  let etcd: ServerProcess;
  let store = '';
  afterAll(async () => {
    await stopAll();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('starts three members on loopback, data under data/etcd/<member>, and prints the list to pass as --store', async () => {
    etcd = await startServer(CONV, ['etcd', '--members', '3', '--port', '0', '--data-dir', dataDir], { timeoutMs: 60_000 });
    await waitFor(() => /--store etcd:\/\/\S+/.test(etcd?.output() ?? ''), { what: 'the --store list' });
    store = /--store (etcd:\/\/\S+)/.exec(etcd.output())?.[1] ?? '';
    const members = store.slice('etcd://'.length).split(',');
    expect(members).toHaveLength(3);
    expect(etcd.output()).toMatch(/etcd cluster of 3 members listening on 127\.0\.0\.1:\d+ \(loopback only/);
    for (const name of ['m1', 'm2', 'm3']) expect(existsSync(join(dataDir, 'etcd', name)), name).toBe(true);
    // One cluster, not three: every member lists all three.
    for (const member of members) {
      const response = await fetch(`http://${member}/v3/cluster/member/list`, { method: 'POST', body: '{}' });
      const body = (await response.json()) as { members?: { clientURLs?: string[] }[] };
      expect(body.members?.flatMap((m) => m.clientURLs ?? []).sort()).toEqual(members.map((m) => `http://${m}`).sort());
    }
  });

  it('runs the system with two discovery replicas sharing the cluster, answers, and stops cleanly', async () => {
    const system = await startServer(
      CONV,
      ['up', '--store', store, '--discovery-replicas', '2', '--replicas', '1', '--discovery-port', '0', '--proxy-port', '0', '--converter-port', '0', '--data-dir', dataDir, '--check-interval', '200ms', '--start-timeout', '60s', '--ready-timeout', '90s'],
      { timeoutMs: 90_000 },
    );
    expect(system.output()).toMatch(/11 of 11 converters healthy/);
    expect(system.output()).toContain(`registry ${store} (shared)`);
    const replicas = [...system.output().matchAll(/discovery\s+127\.0\.0\.1:(\d+)/g)].map((m) => Number(m[1]));
    expect(replicas).toHaveLength(2);
    // Each replica's own status page is in the banner, and each is that replica's.
    const pages = [...system.output().matchAll(/status(?: #\d)?\s+(http:\/\/127\.0\.0\.1:\d+\/)/g)].map((m) => m[1] ?? '');
    expect(pages).toHaveLength(2);
    for (const [i, page] of pages.entries()) {
      const status = (await (await fetch(`${page}status.json`)).json()) as { address?: string };
      expect(status.address, page).toBe(`127.0.0.1:${replicas[i]}`);
    }
    const { stdout } = await run(process.execPath, [CONV, '--proxy', `127.0.0.1:${system.port}`, '56.34', '$', 'cm']);
    expect(Number(stdout.trim())).toBeCloseTo(6818.83247569236, 6);
    // Both replicas list every converter, from the one registry in the cluster.
    for (const port of replicas) {
      const listed = await waitFor(async () => ((await list(port)).filter((l) => / up( |$)/.test(l)).length === 11 ? list(port) : undefined), {
        what: `eleven converters up on the replica at ${port}`,
        timeoutMs: 20_000,
      });
      expect(listed).toHaveLength(11);
    }
    expect(await system.stop('SIGINT')).toBe(0);
    expect(await etcd.stop('SIGINT')).toBe(0);
  });
});
