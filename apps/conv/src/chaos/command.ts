import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { countFlag, durationFlag, switchFlag, validateFlags } from '@conv/server';
import { z } from 'zod';
import { version } from '../../package.json';
import { defineCommand } from '../command';
import { runChaos } from './harness';
import { formatReport, passed } from './report';

const ChaosConfigSchema = z.strictObject({
  durationMs: durationFlag({ min: 5000 }).default(60_000),
  seed: countFlag(0, 2 ** 31 - 1).default(42),
  clients: countFlag(1, 64).default(8),
  keepLogs: switchFlag().default(false),
  /** 0: one discovery on SQLite; 3 or 5: two discovery replicas on an etcd cluster, with member kills. */
  etcdMembers: countFlag(0, 5)
    .refine((n): n is 0 | 3 | 5 => n === 0 || n === 3 || n === 5, { message: 'must be 0 (SQLite), 3 or 5' })
    .default(0),
});
export type ChaosConfig = z.output<typeof ChaosConfigSchema>;

/** The built apps next to this one (the command runs from apps/conv/dist/main.js). */
const APPS = fileURLToPath(new URL('../../', import.meta.url));

/** `conv chaos`: runs the harness, prints progress and the summary; 0 when every guarantee held, 1 otherwise. */
export async function chaos(config: ChaosConfig, say: (line: string) => void): Promise<number> {
  const workDir = mkdtempSync(join(tmpdir(), 'conv-chaos-'));
  const report = await runChaos({
    durationMs: config.durationMs,
    seed: config.seed,
    clients: config.clients,
    etcdMembers: config.etcdMembers,
    apps: {
      discovery: join(APPS, 'discovery', 'dist', 'main.js'),
      converter: join(APPS, 'converter', 'dist', 'main.js'),
      proxy: join(APPS, 'proxy', 'dist', 'main.js'),
    },
    workDir,
    say,
  });
  const ok = passed(report);
  // Logs are the post-mortem of a failed run; a passing run leaves nothing behind unless asked.
  if (ok && !config.keepLogs) rmSync(workDir, { recursive: true, force: true });
  say(formatReport(ok && !config.keepLogs ? { ...report, logDir: `${report.logDir} (removed; --keep-logs keeps them)` } : report));
  return ok ? 0 : 1;
}

export const chaosCommand = defineCommand({
  spec: {
    name: 'conv chaos',
    version,
    usage:
      'conv chaos [options]\n\nStarts discovery (or two replicas on etcd), the proxy and three replicas of each pair of lbs -> b -> in -> cm -> m, loads it and injects faults; exit 0 if no request failed.',
    flags: {
      duration: { type: 'duration', describe: 'how long the load and the faults last (e.g. 60s, 10m)', default: '60s' },
      seed: { describe: 'seeds the fault plan and the questions', default: '42' },
      clients: { describe: 'concurrent clients', default: '8' },
      'keep-logs': { type: 'boolean', describe: "keep the processes' logs after a passing run" },
      'etcd-members': { describe: 'run two discovery replicas on an etcd cluster of 3 (or 5) members, and kill members too (needs etcd on PATH); 0: one discovery on SQLite', default: '0' },
    },
  },
  read: (line) => validateFlags(ChaosConfigSchema, line.flags),
  run: (config, out) => chaos(config, (text) => out.say(text)),
});
