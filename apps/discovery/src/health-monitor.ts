import { formatAddress } from '@conv/protocol';
import {
  type Endpoint,
  type EndpointRegistry,
  type Transition,
  type UnitPair,
} from '@conv/registry';
import type { Logger } from '@conv/server';
import { type ProbeResult, type Prober, verdictOf } from './probe';
import { TokenBucket } from './token-bucket';

export { TokenBucket } from './token-bucket';

export type HealthMonitorOptions = {
  registry: EndpointRegistry;
  probe: Prober;
  /** Period of the background check of each endpoint; 0 turns periodic checks off. */
  intervalMs: number;
  /** Probes in flight at most; the rest wait in a queue. */
  concurrency: number;
  /**
   * Routine probes started per second at most, across all endpoints; 0 = no limit. Probes cost
   * the same event loop that answers LOOKUP, so a large registry stretches each endpoint's
   * interval (to endpoints / rate seconds) rather than starve requests. Urgent probes (admission,
   * reports, restored registrations) are never held back.
   */
  maxProbeRate?: number;
  /**
   * Admission probes (of a new ADD, queued per source address and taken in turn across sources)
   * started per second at most; 0 = no limit. They also take at most half the concurrency, so
   * that a flood of ADDs from one source delays neither routine probes nor other sources'.
   */
  admissionRate?: number;
  /** How often long-down and long-pending endpoints are swept out. */
  sweepEveryMs: number;
  log: Logger;
};

type Tracked = {
  readonly endpoint: Endpoint;
  readonly pair: UnitPair;
  readonly key: string;
  readonly slot: number;
  queued: boolean;
  inFlight: boolean;
  /** Probe again as soon as the current probe ends. */
  again: boolean;
  /** Keep probing back to back while probes succeed, until the endpoint is up again. */
  confirm: boolean;
  /** Keep probing back to back while probes fail and it is up, until it is down (a report). */
  suspect: boolean;
  /** Queued as an admission probe: whose ADD it answers. */
  source: string | undefined;
};

/**
 * Of the routine probes started while endpoints of both kinds wait, heartbeating ones get one in
 * this many: their crashes show as lapses, so their probes only check answers.
 */
export const LEASED_SHARE = 10;

/** A FIFO without Array#shift's O(n) cost. */
class Queue<T> {
  #items: T[] = [];
  #head = 0;
  get length(): number {
    return this.#items.length - this.#head;
  }
  push(item: T): void {
    this.#items.push(item);
  }
  shift(): T | undefined {
    if (this.#head >= this.#items.length) return undefined;
    const item = this.#items[this.#head++];
    if (this.#head > 1024 && this.#head * 2 > this.#items.length) {
      this.#items = this.#items.slice(this.#head);
      this.#head = 0;
    }
    return item;
  }
}

/**
 * Active health checks, off the request path. Each endpoint gets a phase in the interval (a
 * slot of a wheel that turns once per interval), so probes are spread evenly instead of all
 * firing at once; at most `concurrency` run together. Urgent probes (a new ADD, a passive
 * report, a restored registration) jump the queue. Every verdict goes into the registry's
 * health state machine; the registry alone decides up, down and removal.
 */
export class HealthMonitor {
  readonly #registry: EndpointRegistry;
  readonly #probe: Prober;
  readonly #log: Logger;
  readonly #options: HealthMonitorOptions;
  readonly #tracked = new Map<string, Tracked>();
  readonly #slots: Set<Tracked>[];
  readonly #tickMs: number;
  readonly #urgent = new Queue<Tracked>();
  /** Routine probes of endpoints that never heartbeat: probes are all that finds them dead. */
  readonly #routine = new Queue<Tracked>();
  /**
   * Routine probes of heartbeating endpoints (they hold a lease): only answer-checking, since a
   * crash shows as a lapse; they take the budget only when no endpoint without a lease waits.
   */
  readonly #leased = new Queue<Tracked>();
  #routineTurns = 0;
  /** Admission probes per source, and the sources with some waiting, in turn. */
  readonly #admissions = new Map<string, Queue<Tracked>>();
  readonly #sources = new Queue<string>();
  readonly #admissionBudget: TokenBucket | undefined;
  readonly #admissionSlots: number;
  #admissionsInFlight = 0;
  #wake: NodeJS.Timeout | undefined;
  #nextSlot = 0;
  readonly #budget: TokenBucket | undefined;
  #wheel = 0;
  #inFlight = 0;
  #ticker: NodeJS.Timeout | undefined;
  #sweeper: NodeJS.Timeout | undefined;
  #stopped = false;
  #drained: (() => void) | undefined;

  constructor(options: HealthMonitorOptions) {
    this.#options = options;
    this.#registry = options.registry;
    this.#probe = options.probe;
    this.#log = options.log;
    // About 20 to 400 slots per turn: fine enough to spread probes, coarse enough to tick cheaply.
    this.#tickMs = options.intervalMs > 0 ? Math.min(50, Math.max(5, Math.floor(options.intervalMs / 20))) : 0;
    const slots = options.intervalMs > 0 ? Math.max(1, Math.round(options.intervalMs / this.#tickMs)) : 1;
    this.#slots = Array.from({ length: slots }, () => new Set<Tracked>());
    const rate = options.maxProbeRate ?? 0;
    // Holds at most one tick's worth of probes, so a quiet spell never turns into a burst.
    this.#budget = rate > 0 ? new TokenBucket(rate, Math.max(1, (rate * Math.max(this.#tickMs, 10)) / 1000)) : undefined;
    const admissionRate = options.admissionRate ?? 0;
    this.#admissionBudget = admissionRate > 0 ? new TokenBucket(admissionRate, Math.max(1, admissionRate / 20), undefined, 1) : undefined;
    this.#admissionSlots = Math.max(1, Math.floor(options.concurrency / 2));
  }

  get stats(): { tracked: number; inFlight: number; queued: number; admissionsQueued: number } {
    let admissionsQueued = 0;
    for (const queue of this.#admissions.values()) admissionsQueued += queue.length;
    const queued = this.#urgent.length + this.#routine.length + this.#leased.length + admissionsQueued;
    return { tracked: this.#tracked.size, inFlight: this.#inFlight, queued, admissionsQueued };
  }

  start(): void {
    if (this.#options.intervalMs > 0) {
      this.#ticker = setInterval(() => this.#tick(), this.#tickMs);
      this.#ticker.unref();
    }
    this.#sweeper = setInterval(() => this.sweep(), this.#options.sweepEveryMs);
    this.#sweeper.unref();
  }

  /** Starts checking an endpoint (again, if it was tracked for another pair). */
  track(endpoint: Endpoint, pair: UnitPair): void {
    const key = formatAddress(endpoint);
    const known = this.#tracked.get(key);
    if (known && known.pair[0] === pair[0] && known.pair[1] === pair[1]) return;
    if (known) this.untrack(endpoint);
    const slot = this.#nextSlot++ % this.#slots.length;
    const tracked: Tracked = { endpoint, pair, key, slot, queued: false, inFlight: false, again: false, confirm: false, suspect: false, source: undefined };
    this.#tracked.set(key, tracked);
    this.#slots[slot]?.add(tracked);
  }

  untrack(endpoint: Endpoint): void {
    const key = formatAddress(endpoint);
    const tracked = this.#tracked.get(key);
    if (!tracked) return;
    this.#tracked.delete(key);
    this.#slots[tracked.slot]?.delete(tracked);
  }

  /**
   * Probes an endpoint ahead of its turn. With `confirm`, keeps probing while probes succeed
   * until the registry has it up again, so a false report costs seconds of absence, not intervals;
   * with `suspect`, keeps probing while probes fail until it is down. With `source` (a new ADD's
   * address) it is an admission probe: queued fairly per source, within the admission budget.
   * Otherwise it is urgent: never held back by a budget (reports are limited before they get here).
   */
  probeNow(endpoint: Endpoint, options: { confirm?: boolean; suspect?: boolean; source?: string } = {}): void {
    const tracked = this.#tracked.get(formatAddress(endpoint));
    if (!tracked || this.#stopped) return;
    if (options.confirm) tracked.confirm = true;
    if (options.suspect) tracked.suspect = true;
    if (tracked.inFlight) {
      tracked.again = true;
      return;
    }
    if (!tracked.queued) {
      tracked.queued = true;
      if (options.source === undefined) this.#urgent.push(tracked);
      else this.#queueAdmission(tracked, options.source);
    }
    this.#pump();
  }

  #queueAdmission(tracked: Tracked, source: string): void {
    tracked.source = source;
    let queue = this.#admissions.get(source);
    if (queue === undefined) {
      queue = new Queue();
      this.#admissions.set(source, queue);
      this.#sources.push(source);
    }
    queue.push(tracked);
  }

  /** The next admission probe, one source after another; undefined when none may start now. */
  #nextAdmission(): Tracked | undefined {
    if (this.#sources.length === 0 || this.#admissionsInFlight >= this.#admissionSlots) return undefined;
    if (this.#admissionBudget && !this.#admissionBudget.take()) {
      this.#wakeLater();
      return undefined;
    }
    const source = this.#sources.shift();
    const queue = source === undefined ? undefined : this.#admissions.get(source);
    const tracked = queue?.shift();
    if (source !== undefined && queue !== undefined) {
      if (queue.length > 0) this.#sources.push(source);
      else this.#admissions.delete(source);
    }
    return tracked;
  }

  /** Admission probes wait for budget even when no tick comes (periodic checks off). */
  #wakeLater(): void {
    if (this.#wake !== undefined || this.#stopped) return;
    this.#wake = setTimeout(() => {
      this.#wake = undefined;
      this.#pump();
    }, 10);
    this.#wake.unref();
  }

  /** Probes `endpoint` for `pair` at once, outside the schedule (a registration that would replace another). */
  async admits(endpoint: Endpoint, pair: UnitPair): Promise<boolean> {
    if (this.#stopped) return false;
    const result = await this.#probe(endpoint, pair).catch((error: unknown) => ({ ok: false as const, reason: error instanceof Error ? error.message : String(error) }));
    const verdict = verdictOf(result);
    this.#log.debug('admission-probe', { endpoint: formatAddress(endpoint), pair: `${pair[0]}/${pair[1]}`, verdict, reason: 'reason' in result ? result.reason : undefined });
    // Busy proves it alive, not that it serves this pair.
    return verdict === 'ok';
  }

  /** Removes whatever has been down or pending past its grace; logs each removal. */
  sweep(): Transition[] {
    if (this.#stopped) return [];
    let removed: Transition[];
    try {
      removed = this.#registry.sweep();
    } catch (error) {
      this.#log.error('sweep-failed', { error: error instanceof Error ? error.message : String(error) });
      return [];
    }
    for (const transition of removed) {
      this.untrack(transition.endpoint);
      logTransition(this.#log, transition);
    }
    return removed;
  }

  /** Stops timers and new probes; resolves once probes in flight have ended (each is time-limited). */
  stop(): Promise<void> {
    this.#stopped = true;
    clearInterval(this.#ticker);
    clearInterval(this.#sweeper);
    clearTimeout(this.#wake);
    if (this.#inFlight === 0) return Promise.resolve();
    return new Promise((resolve) => {
      this.#drained = resolve;
    });
  }

  #tick(): void {
    const slot = this.#slots[this.#wheel];
    this.#wheel = (this.#wheel + 1) % this.#slots.length;
    if (!slot || slot.size === 0) return;
    for (const tracked of slot) {
      // Still queued or running from last turn: the probes are behind, do not pile up.
      if (tracked.queued || tracked.inFlight) continue;
      tracked.queued = true;
      (this.#registry.holdsLease(tracked.endpoint) ? this.#leased : this.#routine).push(tracked);
    }
    this.#pump();
  }

  #pump(): void {
    while (!this.#stopped && this.#inFlight < this.#options.concurrency) {
      // Urgent first; then admissions (fair across sources, budgeted, half the slots at most);
      // then routine probes within their budget, endpoints without a lease before heartbeating
      // ones. Nothing startable: the next tick or wake pumps again.
      let admission = false;
      let tracked = this.#urgent.shift();
      if (!tracked) {
        tracked = this.#nextAdmission();
        admission = tracked !== undefined;
      }
      if (!tracked && this.#routine.length + this.#leased.length > 0 && (this.#budget?.take() ?? true)) {
        // Lower priority, never starved: heartbeating endpoints get one routine probe in LEASED_SHARE when both wait.
        const leasedTurn = ++this.#routineTurns % LEASED_SHARE === 0;
        tracked = leasedTurn ? (this.#leased.shift() ?? this.#routine.shift()) : (this.#routine.shift() ?? this.#leased.shift());
      }
      if (!tracked) return;
      tracked.queued = false;
      tracked.source = undefined;
      if (this.#tracked.get(tracked.key) !== tracked || tracked.inFlight) continue;
      tracked.inFlight = true;
      this.#inFlight++;
      if (admission) this.#admissionsInFlight++;
      this.#probe(tracked.endpoint, tracked.pair).then(
        (result) => this.#settle(tracked, result, admission),
        (error: unknown) => this.#settle(tracked, { ok: false, reason: error instanceof Error ? error.message : String(error) }, admission),
      );
    }
  }

  #settle(tracked: Tracked, result: ProbeResult, admission: boolean): void {
    this.#inFlight--;
    if (admission) this.#admissionsInFlight--;
    tracked.inFlight = false;
    if (this.#stopped) {
      if (this.#inFlight === 0) this.#drained?.();
      return;
    }
    // An endpoint removed, or re-registered for another pair, while probed: the verdict is stale.
    if (this.#tracked.get(tracked.key) === tracked) this.#apply(tracked, result);
    this.#pump();
  }

  #apply(tracked: Tracked, result: ProbeResult): void {
    const verdict = verdictOf(result);
    const transition = this.#registry.recordProbe(tracked.endpoint, verdict);
    const reason = 'reason' in result ? result.reason : undefined;
    const answered = result.verdict === 'wrong' ? result.answered : undefined;
    if (this.#log.enabled('debug')) {
      this.#log.debug('probe', { endpoint: tracked.key, pair: `${tracked.pair[0]}/${tracked.pair[1]}`, verdict, reason });
    }
    if (transition) logTransition(this.#log, transition, reason, answered);
    const health = this.#registry.find(tracked.endpoint)?.health;
    // Asked for while this probe was under way (a report, say): its verdict predates the
    // question, so it neither ends a suspicion nor a confirmation; the next probe does.
    if (tracked.again) {
      tracked.again = false;
      this.#requeue(tracked);
      return;
    }
    if (tracked.confirm && !(verdict === 'ok' && health !== undefined && health !== 'up')) tracked.confirm = false;
    if (tracked.suspect && !(verdict === 'failed' && health === 'up')) tracked.suspect = false;
    if (tracked.confirm || tracked.suspect) this.#requeue(tracked);
  }

  #requeue(tracked: Tracked): void {
    if (tracked.queued) return;
    tracked.queued = true;
    this.#urgent.push(tracked);
  }
}

export function logTransition(log: Logger, transition: Transition, reason?: string, answered?: string): void {
  const fields = {
    endpoint: formatAddress(transition.endpoint),
    pair: `${transition.pair[0]}/${transition.pair[1]}`,
    from: transition.from,
    to: transition.to,
    reason,
    answered,
  };
  if (transition.to === 'down' || transition.to === 'wrong') log.warn('health', fields);
  else log.info('health', fields);
}
