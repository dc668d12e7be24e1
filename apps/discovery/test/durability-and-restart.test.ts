import { readFileSync, writeFileSync } from 'node:fs';
import { spawn } from 'node:child_process';
import { APP, waitFor } from '@conv/testkit';
import { afterAll, describe, expect, it } from 'vitest';
import { FAST_CHECKS, askOnce, list, startDiscovery, tempDir, useFakeConverters } from './helpers';

const dir = tempDir();
const converter = useFakeConverters();
afterAll(() => dir.remove());

/** Runs the built app to its exit; resolves with the exit code and what it printed. */
function run(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [APP.discovery, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    // 'close': after the exit, once stdout and stderr are drained (on 'exit' the last lines may be missing).
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

describe('durability', () => {
  it('still knows every acknowledged registration after SIGKILL and a restart on the same file', async () => {
    const db = dir.file('killed.db');
    const first = await startDiscovery(['--db', db, '--trust-registrations', '--check-interval', '0']);
    const acknowledged: string[] = [];
    for (let i = 0; i < 20; i++) {
      const reply = await askOnce(first.port, `ADD u${i} v${i} 127.0.0.1 ${4000 + i}`);
      if (reply[0] === 'SUCCESS') acknowledged.push(`127.0.0.1 ${4000 + i}`);
    }
    expect(await askOnce(first.port, 'REMOVE 127.0.0.1 4000')).toEqual(['SUCCESS']);
    acknowledged.shift();
    first.kill('SIGKILL');
    await first.exited;

    const second = await startDiscovery(['--db', db, '--check-interval', '0']);
    expect(second.banner).toContain(`(loopback only; --host to expose; registry ${db}, 19 registrations restored)`);
    const listed = (await list(second.port)).map((line) => line.split(' ').slice(2, 4).join(' '));
    expect(listed.sort()).toEqual(acknowledged.sort());
  });

  it('hands out a restored registration only after a probe has proven it, and never a dead one', async () => {
    const db = dir.file('restored.db');
    const alive = await converter(['ft', 'in']);
    const dead = await converter(['ft', 'in'], { host: '127.0.0.2' });
    const first = await startDiscovery(['--db', db, ...FAST_CHECKS]);
    await askOnce(first.port, `ADD ft in 127.0.0.1 ${alive.port}`);
    await askOnce(first.port, `ADD ft in 127.0.0.2 ${dead.port}`);
    // Two lines, both up (every() of an empty list would be true at once).
    await waitFor(async () => ((lines) => lines.length === 2 && lines.every((l) => / up( |$)/.test(l)))(await list(first.port)), { what: 'both up' });
    expect(await first.stop('SIGKILL')).toBe('SIGKILL');
    await dead.close(); // dies while discovery is down

    const probesBefore = alive.requests.length;
    const second = await startDiscovery(['--db', db, ...FAST_CHECKS]);
    const answers: string[] = [];
    const handedOut = await waitFor(
      async () => {
        const [answer = ''] = await askOnce(second.port, 'LOOKUP ft in');
        answers.push(answer);
        // Recorded the moment the endpoint is handed out: its probe must already have arrived.
        return answer.startsWith('127.0.0.1') ? { answer, probes: alive.requests.length } : undefined;
      },
      { what: 'the live endpoint handed out' },
    );
    expect(handedOut.probes).toBeGreaterThan(probesBefore);
    expect(answers.filter((a) => !a.startsWith('127.0.0.1')).every((a) => a.endsWith('(UNKNOWN_PAIR)'))).toBe(true);
    for (let i = 0; i < 4; i++) expect(await askOnce(second.port, 'LOOKUP ft in')).toEqual([`127.0.0.1 ${alive.port}`]);
  });
});

describe('refusals at start', () => {
  it('refuses a corrupt file with one line and exit code 1, leaving it untouched', async () => {
    const db = dir.file('corrupt.db');
    writeFileSync(db, 'this is not a database, it is a shopping list\n'.repeat(100));
    const before = readFileSync(db);
    const result = await run(['0', '--db', db]);
    expect(result.code).toBe(1);
    expect(result.stderr.trim().split('\n')).toHaveLength(1);
    expect(result.stderr).toMatch(/^discovery: cannot use registry .*\(CORRUPT\)\n$/);
    expect(readFileSync(db).equals(before)).toBe(true);
  });

  it('refuses a file held by another live discovery (LOCKED)', async () => {
    const db = dir.file('locked.db');
    await startDiscovery(['--db', db]);
    const result = await run(['0', '--db', db]);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/^discovery: cannot use registry .*\(LOCKED\)\n$/);
  });

  it('refuses a port in use with one line and exit code 1', async () => {
    const running = await startDiscovery(['--db', ':memory:']);
    const result = await run([String(running.port), '--db', ':memory:']);
    expect(result.code).toBe(1);
    expect(result.stderr).toBe(`discovery: cannot listen: 127.0.0.1:${running.port} is already in use\n`);
  });

  it('exits 2 with one line for a bad flag', async () => {
    const result = await run(['--port', 'x']);
    expect(result).toEqual({ code: 2, stdout: '', stderr: 'discovery: --port must be a whole number from 0 to 65535, got "x"\n' });
  });
});
