import { readFileSync } from 'node:fs';

/** Above this share of the CPU taken by the hypervisor, a run's figures say more about the host than about us. */
export const STOLEN_CPU_WARNING = 0.05;

/** The `cpu` line of /proc/stat: jiffies per state, summed over every core; undefined off Linux. */
function cpuJiffies(): { steal: number; total: number } | undefined {
  try {
    const line = readFileSync('/proc/stat', 'latin1').split('\n', 1)[0] ?? '';
    const fields = line.trim().split(/\s+/).slice(1).map(Number);
    // user nice system idle iowait irq softirq steal guest guest_nice; guest time is already in user.
    const counted = fields.slice(0, 8);
    if (fields[0] === undefined || counted.some((n) => !Number.isFinite(n))) return undefined;
    return { steal: fields[7] ?? 0, total: counted.reduce((sum, n) => sum + n, 0) };
  } catch {
    return undefined;
  }
}

/**
 * Starts watching the CPU time the hypervisor takes from this virtual machine ("steal"); the
 * function returned gives the share taken since, 0 to 1, or undefined where it cannot be read.
 * On a shared cloud host a benchmark round can lose a fifth of its CPU this way, which no
 * interleaving corrects: say it next to the figures.
 */
export function watchStolenCpu(): () => number | undefined {
  const start = cpuJiffies();
  return () => {
    const end = cpuJiffies();
    if (!start || !end || end.total <= start.total) return undefined;
    return (end.steal - start.steal) / (end.total - start.total);
  };
}

/** ` (the hypervisor took 18% of the CPU)` when a round lost more than a little; empty otherwise. */
export function describeStolenCpu(share: number | undefined): string {
  return share !== undefined && share > STOLEN_CPU_WARNING ? ` (the hypervisor took ${Math.round(share * 100)}% of the CPU: not comparable)` : '';
}

/** Retries of one benchmark round that lost CPU to the hypervisor, before its figures are kept anyway. */
export const STOLEN_CPU_RETRIES = 2;

/**
 * Runs a benchmark round; when the hypervisor took more than a little of the CPU meanwhile, says
 * so and runs it again (at most `STOLEN_CPU_RETRIES` times), so that medians are of rounds the
 * host left alone where it can. The last attempt's result is kept, with the share it lost.
 */
export async function withoutStolenCpu<T>(what: string, round: () => Promise<T>, say: (line: string) => void): Promise<{ result: T; stolen: number | undefined }> {
  for (let attempt = 0; ; attempt++) {
    const stolen = watchStolenCpu();
    const result = await round();
    const share = stolen();
    const warning = describeStolenCpu(share);
    if (warning === '' || attempt >= STOLEN_CPU_RETRIES) return { result, stolen: share };
    say(`  ${what}${warning}; running it again`);
  }
}
