import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { runChaos } from './harness';
import { formatReport, passed } from './report';

/** `500ms`, `45s`, `10m`, `1h`, or bare milliseconds. */
export function parseDurationMs(text: string): number | undefined {
  const match = /^(\d+(?:\.\d+)?)(ms|s|m|h)?$/.exec(text.trim());
  if (!match) return undefined;
  const scale = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[match[2] ?? 'ms'] ?? 1;
  const ms = Math.round(Number(match[1]) * scale);
  return Number.isSafeInteger(ms) ? ms : undefined;
}

export const ChaosConfigSchema = z
  .object({
    duration: z.string().transform((text, ctx) => {
      const ms = parseDurationMs(text);
      if (ms !== undefined && ms >= 5000) return ms;
      ctx.addIssue({ code: 'custom', message: `--duration must be a duration of at least 5s, such as 60s or 10m; got ${JSON.stringify(text)}` });
      return z.NEVER;
    }),
    seed: z.coerce.number({ error: '--seed must be a whole number' }).int('--seed must be a whole number'),
    clients: z.coerce
      .number({ error: '--clients must be a whole number from 1 to 64' })
      .int('--clients must be a whole number from 1 to 64')
      .min(1, '--clients must be a whole number from 1 to 64')
      .max(64, '--clients must be a whole number from 1 to 64'),
    keepLogs: z.boolean().default(false),
  })
  .readonly();
export type ChaosConfig = z.infer<typeof ChaosConfigSchema>;

/** The built apps next to this one (the command runs from apps/conv/dist/main.js). */
const APPS = fileURLToPath(new URL('../../', import.meta.url));

/** `conv chaos`: runs the harness, prints progress and the summary; 0 when every guarantee held, 1 otherwise. */
export async function chaos(config: ChaosConfig, say: (line: string) => void): Promise<number> {
  const workDir = mkdtempSync(join(tmpdir(), 'conv-chaos-'));
  const report = await runChaos({
    durationMs: config.duration,
    seed: config.seed,
    clients: config.clients,
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
