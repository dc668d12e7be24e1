import { type Random, between, gap, pick, substream } from './random';

/** A replica of a converter pair: `lbs:b` #0, #1, #2. */
export type ReplicaRef = { readonly pair: string; readonly replica: number };

/**
 * One timed fault, `atMs` after the load starts:
 * - `kill-converter`: SIGKILL a replica, restart it on the same port `downMs` later;
 * - `stop-converter`: SIGSTOP a replica (it accepts TCP and answers nothing), SIGCONT it `stoppedMs` later;
 * - `kill-discovery`: SIGKILL a discovery replica (the only one on SQLite), restart it on the same
 *   port and registry `downMs` later;
 * - `kill-etcd-member`: SIGKILL one member of the etcd cluster, restart it on its data `downMs` later;
 * - `lie-converter`: a bad redeploy: the replica is stopped (SIGTERM, it deregisters) and started
 *   on its port with a wrong `--factor`, answers wrong for `lyingMs`, then is redeployed right;
 * - `drain-converter`: the operator's `REMOVE` of the live replica (from its own host); it keeps
 *   running, and announces itself again at its next heartbeat.
 */
export type Fault =
  | { readonly kind: 'kill-converter'; readonly atMs: number; readonly target: ReplicaRef; readonly downMs: number }
  | { readonly kind: 'stop-converter'; readonly atMs: number; readonly target: ReplicaRef; readonly stoppedMs: number }
  | { readonly kind: 'kill-discovery'; readonly atMs: number; readonly replica: number; readonly downMs: number }
  | { readonly kind: 'kill-etcd-member'; readonly atMs: number; readonly member: number; readonly downMs: number }
  | { readonly kind: 'lie-converter'; readonly atMs: number; readonly target: ReplicaRef; readonly lyingMs: number }
  | { readonly kind: 'drain-converter'; readonly atMs: number; readonly target: ReplicaRef; readonly drainedMs: number };

/** A fault aimed at one converter replica. */
export type ConverterFault = Extract<Fault, { target: ReplicaRef }>;

function isConverterFault(fault: Fault): fault is ConverterFault {
  return 'target' in fault;
}

export type FaultKind = Fault['kind'];

export type FaultPlanOptions = {
  readonly seed: number;
  readonly durationMs: number;
  /** The converter pairs, e.g. `['lbs:b', 'b:in', 'in:cm', 'cm:m']`. */
  readonly pairs: readonly string[];
  readonly replicas: number;
  /** Discovery replicas (1 on SQLite; 2 on etcd): one of them is killed at a time, never both. */
  readonly discoveryReplicas?: number;
  /** Members of the etcd cluster under the replicas (0: SQLite, no etcd faults); one is killed at a time, so a quorum stays. */
  readonly etcdMembers?: number;
  /**
   * The pairs a liar may be planted in: those whose answers discovery checks exactly (the
   * catalog's rational definitions). A wrong factor on an empirical pair (lbs:b) passes the
   * inverse and stability checks by design, so a liar there is not a fault the system can see.
   * None: no liars.
   */
  readonly liarPairs?: readonly string[];
  /**
   * Time a replica still counts as faulted after its restart or SIGCONT: a restarted process
   * needs a moment to listen and register, a resumed one was reported dead and registers again
   * at its next announcement. Never more than `replicas - 1` of a pair are faulted, this included.
   */
  readonly recoveryMs?: Recovery;
};

export type Recovery = { readonly killed: number; readonly stopped: number; readonly discovery: number; readonly etcd?: number; readonly drained?: number };

/** Mean gaps between faults of each kind and the range of their lengths, in ms. */
export const FAULT_RATES = {
  'kill-converter': { meanGapMs: 2500, lengthMs: [300, 1500] },
  'stop-converter': { meanGapMs: 6000, lengthMs: [2000, 4500] },
  'kill-discovery': { meanGapMs: 12_000, lengthMs: [300, 2500] },
  'kill-etcd-member': { meanGapMs: 10_000, lengthMs: [500, 3000] },
  'lie-converter': { meanGapMs: 15_000, lengthMs: [2000, 5000] },
  // How long a drained replica counts as out: it announces again within 1.5 s and is probed.
  'drain-converter': { meanGapMs: 8000, lengthMs: [1500, 3000] },
} as const satisfies Record<FaultKind, { meanGapMs: number; lengthMs: readonly [number, number] }>;

export const DEFAULT_RECOVERY_MS: Recovery = Object.freeze({ killed: 1000, stopped: 500, discovery: 500, etcd: 3000, drained: 1000 });

/** The quiet time at the start (load only) and at the end (everything back before the load stops). */
export function quietMs(durationMs: number): number {
  return Math.min(3000, Math.floor(durationMs / 10));
}

/** When the fault's target is back in service, as the plan counts it. */
export function faultEndMs(fault: Fault, recovery: Recovery = DEFAULT_RECOVERY_MS): number {
  switch (fault.kind) {
    case 'kill-converter':
      return fault.atMs + fault.downMs + recovery.killed;
    case 'stop-converter':
      return fault.atMs + fault.stoppedMs + recovery.stopped;
    case 'kill-discovery':
      return fault.atMs + fault.downMs + recovery.discovery;
    case 'kill-etcd-member':
      // A member back on its data rejoins, catches up and may hold an election: give it time.
      return fault.atMs + fault.downMs + (recovery.etcd ?? DEFAULT_RECOVERY_MS.etcd ?? 0);
    case 'lie-converter':
      // Two redeploys (wrong, then right), each a stop and a start.
      return fault.atMs + fault.lyingMs + 2 * recovery.killed;
    case 'drain-converter':
      return fault.atMs + fault.drainedMs + (recovery.drained ?? DEFAULT_RECOVERY_MS.drained ?? 0);
  }
}

type Window = { start: number; end: number };
const overlaps = (a: Window, b: Window) => a.start < b.end && b.start < a.end;

/**
 * The faults of a run: a pure function of seed and duration (and the system's shape), so a
 * failing run can be replayed. Faults of each kind arrive as a Poisson process; a converter
 * fault goes to a random replica that is not already faulted and whose pair keeps at least
 * one replica in service; discovery is never killed twice at once. Every fault, recovery
 * included, ends before the last quiet stretch. Overlapping faults of different kinds happen.
 */
export function planFaults(options: FaultPlanOptions): Fault[] {
  const { durationMs, pairs, replicas, seed } = options;
  const recovery = options.recoveryMs ?? DEFAULT_RECOVERY_MS;
  const quiet = quietMs(durationMs);
  const first = quiet;
  const last = durationMs - quiet;
  const etcdMembers = options.etcdMembers ?? 0;
  const discoveryReplicas = options.discoveryReplicas ?? 1;
  const liarPairs = options.liarPairs ?? [];
  const kinds = (Object.keys(FAULT_RATES) as FaultKind[]).filter((kind) => (kind !== 'kill-etcd-member' || etcdMembers > 0) && (kind !== 'lie-converter' || liarPairs.length > 0));

  // Arrival times per kind, each from its own stream, merged in time order.
  const arrivals: { kind: FaultKind; atMs: number }[] = [];
  kinds.forEach((kind, index) => {
    const random = substream(seed, 100 + index);
    for (let at = first + gap(random, FAULT_RATES[kind].meanGapMs); at < last; at += Math.max(1, gap(random, FAULT_RATES[kind].meanGapMs))) {
      arrivals.push({ kind, atMs: at });
    }
  });
  arrivals.sort((a, b) => a.atMs - b.atMs || kinds.indexOf(a.kind) - kinds.indexOf(b.kind));

  const random = substream(seed, 1);
  const planned: Fault[] = [];
  const place = (kind: FaultKind, atMs: number): boolean => {
    const fault = shape(kind, atMs, random, { pairs, replicas, discoveryReplicas, etcdMembers, liarPairs }, planned, recovery);
    if (!fault || faultEndMs(fault, recovery) > last) return false;
    planned.push(fault);
    return true;
  };
  for (const arrival of arrivals) place(arrival.kind, arrival.atMs);
  // A short run may draw no fault of some kind; give it one, so every kind is exercised.
  for (const kind of kinds) {
    for (let tries = 0; tries < 50 && !planned.some((f) => f.kind === kind); tries++) {
      place(kind, between(random, first, Math.max(first, last - 1)));
    }
  }
  return planned.sort((a, b) => a.atMs - b.atMs);
}

type SystemShape = { pairs: readonly string[]; replicas: number; discoveryReplicas: number; etcdMembers: number; liarPairs: readonly string[] };

function shape(kind: FaultKind, atMs: number, random: Random, system: SystemShape, planned: readonly Fault[], recovery: Recovery): Fault | undefined {
  const { pairs, replicas } = system;
  const [min, max] = FAULT_RATES[kind].lengthMs;
  const lengthMs = between(random, min, max);
  if (kind === 'kill-discovery' || kind === 'kill-etcd-member') {
    const fault: Fault =
      kind === 'kill-discovery'
        ? // One replica (SQLite) draws nothing, so a seed plans the same faults it always did.
          { kind, atMs, replica: system.discoveryReplicas > 1 ? between(random, 0, system.discoveryReplicas - 1) : 0, downMs: lengthMs }
        : { kind, atMs, member: between(random, 0, system.etcdMembers - 1), downMs: lengthMs };
    const window = { start: atMs, end: faultEndMs(fault, recovery) };
    // One discovery replica and one etcd member out at a time: the other replica serves, the
    // remaining members keep a quorum.
    const busy = planned.some((f) => f.kind === kind && overlaps(window, { start: f.atMs, end: faultEndMs(f, recovery) }));
    return busy ? undefined : fault;
  }
  const make = (target: ReplicaRef): ConverterFault => {
    switch (kind) {
      case 'kill-converter':
        return { kind, atMs, target, downMs: lengthMs };
      case 'stop-converter':
        return { kind, atMs, target, stoppedMs: lengthMs };
      case 'lie-converter':
        return { kind, atMs, target, lyingMs: lengthMs };
      case 'drain-converter':
        return { kind, atMs, target, drainedMs: lengthMs };
    }
  };
  const candidates: ReplicaRef[] = [];
  for (const pair of kind === 'lie-converter' ? pairs.filter((p) => system.liarPairs.includes(p)) : pairs) {
    for (let replica = 0; replica < replicas; replica++) {
      const target = { pair, replica };
      if (fits(make(target), planned, replicas, recovery)) candidates.push(target);
    }
  }
  if (candidates.length === 0) return undefined;
  return make(pick(random, candidates));
}

/** The replica is free for the whole window, and its pair keeps at least one replica in service throughout. */
function fits(fault: ConverterFault, planned: readonly Fault[], replicas: number, recovery: Recovery): boolean {
  const window = { start: fault.atMs, end: faultEndMs(fault, recovery) };
  const sameTime = planned.filter(
    (f): f is ConverterFault => isConverterFault(f) && f.target.pair === fault.target.pair && overlaps(window, { start: f.atMs, end: faultEndMs(f, recovery) }),
  );
  if (sameTime.some((f) => f.target.replica === fault.target.replica)) return false;
  // Counting every overlapping fault (not only simultaneous ones) keeps this simple and safe.
  return sameTime.length + 1 <= replicas - 1;
}

/** Most replicas of one pair faulted at the same instant, over the whole plan (for tests and the summary). */
export function maxFaultedAtOnce(faults: readonly Fault[], pair: string, recovery: Recovery = DEFAULT_RECOVERY_MS): number {
  const edges: [number, number][] = [];
  for (const f of faults) {
    if (!isConverterFault(f) || f.target.pair !== pair) continue;
    edges.push([f.atMs, 1], [faultEndMs(f, recovery), -1]);
  }
  edges.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  let now = 0;
  let most = 0;
  for (const [, step] of edges) {
    now += step;
    most = Math.max(most, now);
  }
  return most;
}

export function describeFault(fault: Fault): string {
  const at = `${(fault.atMs / 1000).toFixed(1)}s`;
  switch (fault.kind) {
    case 'kill-converter':
      return `${at} SIGKILL ${replicaName(fault.target)}, restart after ${fault.downMs} ms`;
    case 'stop-converter':
      return `${at} SIGSTOP ${replicaName(fault.target)} for ${fault.stoppedMs} ms`;
    case 'kill-discovery':
      return `${at} SIGKILL discovery${fault.replica > 0 ? ` #${fault.replica + 1}` : ''}, restart after ${fault.downMs} ms`;
    case 'kill-etcd-member':
      return `${at} SIGKILL etcd member m${fault.member + 1}, restart on its data after ${fault.downMs} ms`;
    case 'lie-converter':
      return `${at} redeploy ${replicaName(fault.target)} with a wrong --factor for ${fault.lyingMs} ms`;
    case 'drain-converter':
      return `${at} REMOVE ${replicaName(fault.target)} (drain a live replica)`;
  }
}

export function replicaName(ref: ReplicaRef): string {
  return `${ref.pair}#${ref.replica + 1}`;
}
