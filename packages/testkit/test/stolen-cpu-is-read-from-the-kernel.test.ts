import { existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { STOLEN_CPU_WARNING, describeStolenCpu, watchStolenCpu } from '../src/stolen-cpu';

describe('the CPU a hypervisor takes during a benchmark round', () => {
  it.runIf(existsSync('/proc/stat'))('is a share between 0 and 1 of the CPU time since the watch began', () => {
    const stolen = watchStolenCpu();
    // Some CPU time must pass for a share to exist: spin until the kernel's counters move.
    let share: number | undefined;
    for (let spins = 0; share === undefined && spins < 1_000; spins++) {
      const until = Date.now() + 20;
      while (Date.now() < until);
      share = stolen();
    }
    expect(share).toBeGreaterThanOrEqual(0);
    expect(share).toBeLessThanOrEqual(1);
  });

  it('is named next to the figures only when it is more than a little', () => {
    expect(describeStolenCpu(undefined)).toBe('');
    expect(describeStolenCpu(STOLEN_CPU_WARNING)).toBe('');
    expect(describeStolenCpu(0.18)).toBe(' (the hypervisor took 18% of the CPU: not comparable)');
  });
});
