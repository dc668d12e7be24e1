import { type Endpoint, type StatusReport, StatusReportSchema, formatAddress } from '@conv/protocol';
import { z } from 'zod';
import { durationFlag, addressFlag, switchFlag, validateFlags } from '@conv/server';
import { version } from '../package.json';
import { defineCommand } from './command';


export type StatusOutcome = { ok: true; report: StatusReport; json: unknown } | { ok: false; reason: string };

/** Reads `/status.json` from discovery's HTTP port; never throws. */
export async function fetchStatus(http: Endpoint, timeoutMs: number): Promise<StatusOutcome> {
  const url = `http://${formatAddress(http)}/status.json`;
  let json: unknown;
  try {
    const response = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
    if (!response.ok) return { ok: false, reason: `${url} answered HTTP ${response.status}` };
    json = await response.json();
  } catch (error) {
    const cause = error instanceof Error && error.cause instanceof Error ? error.cause.message : error instanceof Error ? error.message : String(error);
    return { ok: false, reason: `cannot reach ${url} (${cause}); is the system up (conv up), or is discovery's --http-port elsewhere?` };
  }
  const report = StatusReportSchema.safeParse(json);
  if (!report.success) return { ok: false, reason: `${url} is not a conv discovery status page (${report.error.issues[0]?.message ?? 'unexpected shape'})` };
  return { ok: true, report: report.data, json };
}

function ago(ms: number | null, now: number): string {
  if (ms === null) return 'never';
  const seconds = Math.max(0, (now - ms) / 1000);
  return seconds < 10 ? `${seconds.toFixed(1)} s ago` : seconds < 120 ? `${Math.round(seconds)} s ago` : `${Math.round(seconds / 60)} min ago`;
}

function table(rows: readonly (readonly string[])[], rightAligned: ReadonlySet<number>): string[] {
  const widths = rows[0]?.map((_, column) => Math.max(...rows.map((row) => row[column]?.length ?? 0))) ?? [];
  return rows.map((row) =>
    row
      .map((cell, column) => (rightAligned.has(column) ? cell.padStart(widths[column] ?? 0) : cell.padEnd(widths[column] ?? 0)))
      .join('  ')
      .trimEnd(),
  );
}

/** The status page as terminal text: a summary, one row per endpoint, the unit graph as adjacency lists. */
export function formatStatus(report: StatusReport, http: Endpoint): string {
  const { counts } = report;
  const lines = [
    `discovery ${report.address}: ${counts.pools} pool${counts.pools === 1 ? '' : 's'}, ${counts.endpoints} endpoint${counts.endpoints === 1 ? '' : 's'} ` +
      `(${counts.up} up, ${counts.down} down, ${counts.pending} pending${counts.wrong > 0 ? `, ${counts.wrong} wrong` : ''}); status page http://${formatAddress(http)}/`,
    '',
  ];
  if (report.pools.length === 0) {
    lines.push('No converter is registered.');
    return `${lines.join('\n')}\n`;
  }
  const rows: string[][] = [['PAIR', 'ENDPOINT', 'HEALTH', 'LAST CHECK', 'SERVED', 'ROUND ROBIN']];
  for (const pool of report.pools) {
    pool.endpoints.forEach((endpoint, i) => {
      const pair = i === 0 ? `${pool.pair[0]}/${pool.pair[1]}${pool.up === 0 ? ' (dead)' : ''}` : '';
      rows.push([pair, endpoint.address, endpoint.health, ago(endpoint.lastCheck, report.now), String(endpoint.served), endpoint.next ? '<- next' : '']);
    });
  }
  lines.push(...table(rows, new Set([4])));

  const neighbours = new Map<string, string[]>(report.graph.units.map((unit) => [unit, []]));
  for (const edge of report.graph.edges) {
    const [a, b] = edge.pair;
    neighbours.get(a)?.push(edge.alive ? b : `${b} (dead)`);
    neighbours.get(b)?.push(edge.alive ? a : `${a} (dead)`);
  }
  const dead = report.graph.edges.filter((edge) => !edge.alive).length;
  lines.push('', `Unit graph: ${report.graph.units.length} units, ${report.graph.edges.length} pairs, ${dead} dead`);
  const width = Math.max(...report.graph.units.map((unit) => unit.length));
  for (const [unit, next] of neighbours) lines.push(`  ${unit.padEnd(width)} -- ${next.join(', ')}`);
  return `${lines.join('\n')}\n`;
}

/** `conv status`: 0 with the table (or the JSON with --json), 1 when discovery's HTTP port cannot be read. */
export async function status(
  config: { http: Endpoint; json: boolean; timeout: number },
  out: { say: (text: string) => void; complain: (text: string) => void },
): Promise<number> {
  const outcome = await fetchStatus(config.http, config.timeout);
  if (!outcome.ok) {
    out.complain(`conv status: ${outcome.reason}`);
    return 1;
  }
  out.say(config.json ? JSON.stringify(outcome.json, null, 2) : formatStatus(outcome.report, config.http).trimEnd());
  return 0;
}

const StatusConfigSchema = z.strictObject({
  http: addressFlag().default({ host: '127.0.0.1', port: 5580 }),
  json: switchFlag().default(false),
  timeoutMs: durationFlag().default(5000),
});

export const statusCommand = defineCommand({
  spec: {
    name: 'conv status',
    version,
    usage: "conv status [options]\n\nEvery pool, its endpoints' health, last check, requests served and round-robin position, and the unit graph.",
    flags: {
      http: { describe: "discovery's --http-port address, host:port", default: '127.0.0.1:5580' },
      json: { type: 'boolean', describe: 'print the status as JSON, for scripts' },
      timeout: { type: 'duration', describe: 'how long to wait for discovery', default: '5s' },
    },
  },
  read: (line) => validateFlags(StatusConfigSchema, line.flags),
  run: (config, out) => status({ http: config.http, json: config.json, timeout: config.timeoutMs }, out),
});
