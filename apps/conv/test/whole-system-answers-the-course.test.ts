import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { type ServerProcess, LineClient, exchange, repoPath, startServer, stopAll, waitFor } from '@conv/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { COURSE_PAIRS } from '../src/system';

const CONV = repoPath('apps/conv/dist/main.js');
const run = promisify(execFile);

let system: ServerProcess;
let dataDir: string;
let discoveryPort: number;

type ProcessRow = { name: string; pid: number; port: number };
const processes = (): ProcessRow[] => JSON.parse(readFileSync(join(dataDir, 'processes.json'), 'utf8')) as ProcessRow[];

beforeAll(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'conv-up-'));
  system = await startServer(
    CONV,
    // Two dozen processes on a possibly busy machine (two CPU burners beside the suite): each may
    // take far longer than the idle default to print its banner. conv up also stretches its
    // limits by the load average, but that lags a load that has just begun.
    ['up', '--discovery-port', '0', '--proxy-port', '0', '--converter-port', '0', '--data-dir', dataDir, '--check-interval', '200ms', '--start-timeout', '60s', '--ready-timeout', '90s'],
    // This one only catches a hang.
    { timeoutMs: 150_000 },
  );
  discoveryPort = Number(/discovery\s+127\.0\.0\.1:(\d+)/.exec(system.output())?.[1]);
}, 180_000);

afterAll(async () => {
  await stopAll();
  rmSync(dataDir, { recursive: true, force: true });
});

const relativeError = (actual: number, expected: number) => Math.abs(actual - expected) / Math.max(Math.abs(expected), 1e-300);

async function conv(...args: string[]): Promise<string> {
  const { stdout } = await run(process.execPath, [CONV, '--proxy', `127.0.0.1:${system.port}`, ...args]);
  return stdout.trim();
}

describe('pnpm start: the whole system on loopback', () => {
  it('says it is up with every converter healthy, and where everything is', () => {
    expect(system.output()).toMatch(/22 of 22 converters healthy/);
    expect(discoveryPort).toBeGreaterThan(0);
    expect(processes()).toHaveLength(24);
  });

  it('answers the course\'s four questions through several converters, with the values worked out by hand', async () => {
    // Worked out with exact fractions from the definitions (1 lb = 0.45359237 kg, 1 in = 2.54 cm)
    // and the default banana facts (118 g, 7.4375 in, 0.422 g of potassium, $0.60 per lb,
    // 140.5001 yen per $), not by the code under test; each hop rounds once, hence 1e-12.
    const questions: [string, string, string, number][] = [
      ['45.6', 'lbs', 'kg', 20.683812072], // 45.6 * 0.45359237
      ['150', 'b', 'ft', 92.96875], // 150 * 7.4375 / 12
      ['43', 'gK', 'y', 2234.601855744519], // 43 / 0.422 * 118 / 453.59237 * 0.6 * 140.5001
      ['56.34', '$', 'cm', 6818.832475692362], // 56.34 / 0.6 * 453.59237 / 118 * 7.4375 * 2.54
    ];
    for (const [amount, from, to, expected] of questions) {
      const answer = Number(await conv(amount, from, to));
      expect(relativeError(answer, expected), `${amount} ${from} -> ${to}: ${answer}`).toBeLessThan(1e-12);
    }
    expect(await conv('$ cm 56.34')).toBe(await conv('56.34', '$', 'cm'));
    // A negative amount after --, or quoted, where it cannot be taken for a flag.
    expect(await conv('--', '-3', 'ft', 'in')).toBe('-36');
    expect(await conv('ft in -3')).toBe('-36');
    // Eight runs of the conv client (a node start each) beside a loaded system: 60 s was not enough at a load of 24.
  }, 120_000);

  it('shows with --path every conversion of a question and the converter that answered it', async () => {
    const lines = (await conv('--path', '56.34', '$', 'cm')).split('\n');
    expect(lines).toHaveLength(6);
    expect(lines.slice(0, 5).map((line) => line.split(/\s+/).slice(0, 3).join(' '))).toEqual([
      '$ -> oz',
      'oz -> lbs',
      'lbs -> b',
      'b -> in',
      'in -> cm',
    ]);
    const converterPorts = new Set(processes().filter((p) => p.name.startsWith('converter')).map((p) => p.port));
    for (const line of lines.slice(0, 5)) expect(converterPorts.has(Number(/127\.0\.0\.1:(\d+)/.exec(line)?.[1]))).toBe(true);
    expect(relativeError(Number(lines[5]), 6818.832475692362), lines[5]).toBeLessThan(1e-12);
    expect(lines[5]).toBe(await conv('56.34', '$', 'cm'));
  });

  it('converts every course pair both ways through the proxy', async () => {
    // [a, b, 3 a in b, 3 b in a], worked out by hand from the same definitions and facts.
    const answers: [string, string, number, number][] = [
      ['ft', 'in', 36, 0.25],
      ['in', 'cm', 7.62, 1.1811023622047243], // 3 / 2.54
      ['cm', 'm', 0.03, 300],
      ['kg', 'g', 3000, 0.003],
      ['kg', 'lbs', 6.613867865546327, 1.36077711], // 3 / 0.45359237; 3 * 0.45359237
      ['lbs', 'oz', 48, 0.1875],
      ['oz', '$', 0.1125, 80], // $0.60 per 16 oz
      ['lbs', 'b', 11.532009406779661, 0.7804364081344667], // 3 * 453.59237 / 118; 3 * 118 / 453.59237
      ['b', 'in', 22.3125, 0.40336134453781514], // 3 * 7.4375; 3 / 7.4375
      ['b', 'gK', 1.266, 7.109004739336493], // 3 * 0.422; 3 / 0.422
      ['$', 'y', 421.5003, 0.021352297969894685], // 3 * 140.5001; 3 / 140.5001
    ];
    // Every pair the system runs is asked, no more and no fewer.
    expect(answers.map(([a, b]) => `${a}:${b}`)).toEqual(COURSE_PAIRS.map(([a, b]) => `${a}:${b}`));
    for (const [a, b, forward, backward] of answers) {
      for (const [from, to, expected] of [[a, b, forward], [b, a, backward]] as const) {
        const [greeting, answer] = await exchange(system.port, `${from} ${to} 3`);
        expect(greeting).toMatch(/^HELLO proxy/);
        expect(relativeError(Number(answer), expected), `${from} -> ${to}: ${answer}`).toBeLessThan(1e-12);
      }
    }
  });

  it('hands out the replicas of a pair in turn', async () => {
    const client = await LineClient.connect(discoveryPort);
    const first = await client.request('LOOKUP ft in');
    const second = await client.request('LOOKUP in ft');
    client.close();
    // Two addresses, and not the same one: a failed lookup (two different FAILURE lines) does not pass.
    expect(first).toEqual([expect.stringMatching(/^127\.0\.0\.1 \d+$/)]);
    expect(second).toEqual([expect.stringMatching(/^127\.0\.0\.1 \d+$/)]);
    expect(first).not.toEqual(second);
  });

  it('keeps answering when a replica is killed, and restarts it', async () => {
    const victim = processes().find((p) => p.name === 'converter ft:in #1');
    expect(victim).toBeDefined();
    process.kill(victim?.pid ?? 0, 'SIGKILL');
    for (let i = 0; i < 10; i++) expect(await conv('1', 'ft', 'in')).toBe('12');
    const restarted = await waitFor(() => processes().find((p) => p.name === 'converter ft:in #1' && p.pid !== victim?.pid), {
      what: 'the killed replica to be restarted',
      timeoutMs: 60_000,
    });
    // Restarted means serving again: it answers on its port, and discovery hands it out again.
    await waitFor(async () => (await exchange(restarted.port, 'ft in 1').catch(() => []))[1] === '12', { what: 'the restarted replica answering', timeoutMs: 60_000 });
    await waitFor(
      async () => {
        const client = await LineClient.connect(discoveryPort);
        try {
          return (await client.request('LIST', (line) => line === 'END')).some((line) => line.startsWith(`ft in 127.0.0.1 ${restarted.port} up`));
        } finally {
          client.close();
        }
      },
      { what: 'the restarted replica up in discovery', timeoutMs: 60_000 },
    );
  }, 120_000);

  it('stops every process on Ctrl-C and exits 0', async () => {
    const pids = processes().map((p) => p.pid);
    expect(await system.stop('SIGINT')).toBe(0);
    const alive = (pid: number) => {
      try {
        process.kill(pid, 0);
        return true;
      } catch {
        return false;
      }
    };
    expect(pids.filter(alive)).toEqual([]);
  });
});

describe('conv, the client', () => {
  it('explains a question it cannot read, with exit code 2', async () => {
    await expect(run(process.execPath, [CONV, '56.34', '$'])).rejects.toMatchObject({ code: 2 });
  });

  it('says clearly when no proxy is listening, with exit code 1', async () => {
    const failed = await run(process.execPath, [CONV, '--proxy', '127.0.0.1:9', '1', 'ft', 'in']).catch((e: unknown) => e);
    expect(failed).toMatchObject({ code: 1 });
    expect((failed as { stderr: string }).stderr).toMatch(/^FAILURE unavailable\. cannot reach 127\.0\.0\.1:9/);
  });
});
