/**
 * How long `conv up` waits for its processes, and what it says when one does not make it. Pure:
 * the machine's load is passed in, sampled by the caller.
 */

/** What the machine is doing when a process is spawned. */
export type MachineLoad = {
  readonly cpus: number;
  /** The one-minute load average: runnable processes, ours included once they have run a while. */
  readonly load1: number;
};

export type StartLimit = {
  readonly ms: number;
  /** How much `baseMs` was stretched (1 on an idle machine). */
  readonly stretch: number;
};

/**
 * The time a process may take from spawn to banner. `baseMs` is for an idle machine; when more
 * runnable processes than cores compete (the load average, plus the processes we are starting
 * right now, which the average does not show yet), each gets only a share of a core, and the
 * limit grows by the same factor. A Node server's start-up is CPU-bound: on a machine twice as
 * busy it takes twice as long, and it has not failed.
 */
export function startLimit(baseMs: number, machine: MachineLoad, starting: number): StartLimit {
  const cpus = Math.max(1, machine.cpus);
  const stretch = Math.max(1, (Math.max(0, machine.load1) + Math.max(0, starting)) / cpus);
  return { ms: Math.round(baseMs * stretch), stretch };
}

/** The last `count` non-empty lines of `text`, each cut to 200 characters. */
export function lastLines(text: string, count = 8): string[] {
  return text
    .split('\n')
    .map((line) => line.trimEnd())
    .filter((line) => line !== '')
    .slice(-count)
    .map((line) => (line.length > 200 ? `${line.slice(0, 199)}…` : line));
}

export type StartFailure =
  | { readonly kind: 'no-banner'; readonly waitedMs: number; readonly baseMs: number; readonly limit: StartLimit; readonly machine: MachineLoad }
  | { readonly kind: 'exited'; readonly how: number | string };

/**
 * One paragraph for the terminal: which process, what happened, its last log lines (or that it
 * printed nothing), and what to try.
 */
export function describeStartFailure(name: string, failure: StartFailure, log: { path: string; text: string }): string {
  const lines = lastLines(log.text);
  const said = lines.length === 0 ? ['  (its log is empty: it printed nothing)'] : [`  the last lines of ${log.path}:`, ...lines.map((line) => `    ${line}`)];
  if (failure.kind === 'exited') {
    return [`${name} exited (${failure.how}) before listening.`, ...said, `  Try: read the lines above; a port in use means another system is running (stop it, or pick other ports: conv up --help).`].join('\n');
  }
  const { waitedMs, baseMs, limit, machine } = failure;
  const why =
    limit.stretch > 1
      ? `--start-timeout ${baseMs} ms, stretched ${limit.stretch.toFixed(1)}x for a load of ${machine.load1.toFixed(1)} on ${machine.cpus} cores`
      : `--start-timeout ${baseMs} ms`;
  return [
    `${name} printed no banner within ${(waitedMs / 1000).toFixed(1)} s (${why}).`,
    ...said,
    `  Try: give processes longer (--start-timeout ${Math.max(2 * baseMs, 60_000)}), start fewer (--replicas 1), or wait until the machine is less busy.`,
  ].join('\n');
}
