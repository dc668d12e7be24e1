import type { DiscoveryReply, DiscoveryRequest, Endpoint } from '@conv/protocol';
import type { LogFields, LogLevel } from '@conv/server';
import type { UnitPair } from './pair';

/**
 * Registration that stays true, as a pure state machine: events in (start, timer, a reply
 * from discovery, discovery unreachable or silent, stop), new state and commands out (send a
 * request, wait, log, done). registration-driver.ts runs the commands with sockets and timers.
 *
 * It speaks to any discovery server of the course. It first asks FEATURES: a conv discovery
 * server (it lists `session`) takes idempotent re-announcements, so the converter ADDs again
 * every interval; one that also lists `lease` gets heartbeats, an ADD with `lease=` every
 * heartbeat interval (over one session, which the driver keeps), so that it notices within one
 * lease when this process dies or freezes; any other server gets one ADD, and another only when
 * a LOOKUP shows the entry gone, since a server that does not de-duplicate would pile up copies.
 *
 *   idle --start--> asking --FEATURES answered (or not)--> adding --SUCCESS--> registered
 *   registered --interval--> adding (conv) | checking (LOOKUP, any other server)
 *   checking --entry gone--> adding;  checking --seen, or no answer--> registered
 *   adding --FAILURE entry exists.--> removing-stale (conv) | registered (any other server)
 *   removing-stale --any reply--> adding (once per cycle)
 *   asking / adding / removing-stale --unreachable or refused--> backing-off --backoff--> asking | adding
 *   any --stop--> (stopping: wait for the request in flight) --> removing-final --> stopped
 */
export type RegistrationPhase =
  | 'idle'
  | 'asking'
  | 'adding'
  | 'removing-stale'
  | 'registered'
  | 'checking'
  | 'backing-off'
  | 'stopping'
  | 'removing-final'
  | 'stopped';

/**
 * What FEATURES said: conv's discovery taking leases (heartbeat with `lease=`), conv's without
 * (re-announce every interval), or a course server (announce once).
 */
export type DiscoveryKind = 'unknown' | 'leased' | 'conv' | 'course';

export type RegistrationState = {
  readonly phase: RegistrationPhase;
  readonly discovery: DiscoveryKind;
  /** Consecutive failed attempts; sets the backoff. */
  readonly failures: number;
  /** Whether the last ADD succeeded (discovery knows us, as far as we know). */
  readonly registered: boolean;
  readonly everRegistered: boolean;
  /** Whether this ADD cycle already removed a stale entry (so we do not loop on ENTRY_EXISTS). */
  readonly replacedStale: boolean;
  /** A course server: consecutive LOOKUPs that named another server of the pair. */
  readonly misses: number;
};

export type RegistrationEvent =
  | { readonly type: 'start' }
  | { readonly type: 'timer' }
  | { readonly type: 'reply'; readonly reply: DiscoveryReply }
  /** No connection could be made (refused, reset, no connect in time). */
  | { readonly type: 'unreachable'; readonly reason: string }
  /** The server took the request and gave no reply (closed, or let the deadline pass). */
  | { readonly type: 'silent'; readonly reason: string }
  /** The process was frozen (SIGSTOP) and continues: discovery may have dropped us meanwhile. */
  | { readonly type: 'resumed' }
  | { readonly type: 'stop' };

export type RegistrationCommand =
  | { readonly type: 'send'; readonly request: DiscoveryRequest }
  | { readonly type: 'wait'; readonly ms: number }
  | { readonly type: 'cancel-wait' }
  | { readonly type: 'log'; readonly level: LogLevel; readonly event: string; readonly fields: LogFields }
  | { readonly type: 'done' };

export type RegistrationContext = {
  readonly units: UnitPair;
  /** Where others reach this converter: the advertised host and the bound port. */
  readonly endpoint: Endpoint;
  readonly announceIntervalMs: number;
  /** The lease asked of a discovery that lists `lease`; undefined (`--lease 0`): never ask. */
  readonly leaseMs?: number | undefined;
  /** How often the lease is renewed (ADD again); shorter than the lease. */
  readonly heartbeatIntervalMs?: number;
  /** False (`--no-reannounce`): one ADD at start, nothing more until the REMOVE at exit. */
  readonly reannounce: boolean;
  /** Sent with ADD and REMOVE when discovery requires a shared secret. */
  readonly token?: string | undefined;
  readonly backoff: BackoffPolicy;
  /** A number in [0, 1) for jitter; injected so the machine stays pure. */
  readonly random: () => number;
};

export type BackoffPolicy = { readonly baseMs: number; readonly maxMs: number };

/** A course server: this many LOOKUPs in a row naming other servers of the pair mean the entry is gone. */
export const MISSES_BEFORE_REANNOUNCE = 8;

export const INITIAL_REGISTRATION: RegistrationState = Object.freeze({
  phase: 'idle',
  discovery: 'unknown',
  failures: 0,
  registered: false,
  everRegistered: false,
  replacedStale: false,
  misses: 0,
});

/** The default policy: 200 ms doubling to 5 s, never longer than the announce interval. */
export function defaultBackoff(announceIntervalMs: number): BackoffPolicy {
  // A retry never waits longer than the announce interval: a converter announcing every 50 ms retries within 50 ms.
  const maxMs = Math.min(5000, announceIntervalMs);
  return { baseMs: Math.min(200, maxMs), maxMs };
}

/** Exponential backoff with "equal jitter": between half and all of the capped delay. */
export function backoffDelay(failures: number, policy: BackoffPolicy, random: number): number {
  const exponent = Math.min(Math.max(failures - 1, 0), 30);
  const capped = Math.min(policy.maxMs, policy.baseMs * 2 ** exponent);
  return Math.round(capped / 2 + (capped / 2) * random);
}

/** Seed servers answer `Failure entry exists.` or `FAILURE EXISTS`; ours add `(ENTRY_EXISTS)`. Any of them counts. */
export function isEntryExists(reply: DiscoveryReply): boolean {
  return reply.kind === 'failure' && (reply.failure.code === 'ENTRY_EXISTS' || /\bexists?\b/i.test(reply.failure.message));
}

type Step = { readonly state: RegistrationState; readonly commands: readonly RegistrationCommand[] };

export function stepRegistration(state: RegistrationState, event: RegistrationEvent, context: RegistrationContext): Step {
  const { units, endpoint, token } = context;
  const where = { host: endpoint.host, port: endpoint.port, pair: `${units[0]}:${units[1]}` };
  const addTo = (kind: DiscoveryKind): RegistrationCommand => ({
    type: 'send',
    request: { verb: 'ADD', units: [units[0], units[1]], endpoint, token, ...(kind === 'leased' && context.leaseMs !== undefined ? { leaseMs: context.leaseMs } : {}) },
  });
  const add = addTo(state.discovery);
  const leasing = state.discovery === 'leased';
  const intervalMs = leasing ? (context.heartbeatIntervalMs ?? context.announceIntervalMs) : context.announceIntervalMs;
  const remove: RegistrationCommand = { type: 'send', request: { verb: 'REMOVE', endpoint, token } };
  const features: RegistrationCommand = { type: 'send', request: { verb: 'FEATURES' } };
  const lookup: RegistrationCommand = { type: 'send', request: { verb: 'LOOKUP', units: [units[0], units[1]] } };
  const log = (level: LogLevel, name: string, fields: LogFields = {}): RegistrationCommand => ({
    type: 'log',
    level,
    event: name,
    fields: { ...where, ...fields },
  });
  const to = (next: Partial<RegistrationState>, ...commands: RegistrationCommand[]): Step => ({
    state: { ...state, ...next },
    commands,
  });
  /** After a success or a sighting: wait for the next announcement, if there is to be one. */
  const nextAnnouncement = (): RegistrationCommand[] => (context.reannounce ? [{ type: 'wait', ms: intervalMs }] : []);

  const failed = (reason: string, refused: boolean): Step => {
    const failures = state.failures + 1;
    // Heartbeats retry within a heartbeat interval: the lease runs meanwhile.
    const policy = leasing ? { baseMs: Math.min(context.backoff.baseMs, intervalMs), maxMs: Math.min(context.backoff.maxMs, intervalMs) } : context.backoff;
    const ms = backoffDelay(failures, policy, context.random());
    const fields = { reason, attempt: failures, retryInMs: ms };
    // The first failure of a streak is news; the rest of the streak is noise at info level.
    const news: RegistrationCommand[] = [];
    if (state.registered) news.push(log('warn', 'registration-lost', fields));
    else if (failures === 1 || refused) news.push(log('warn', 'registration-failed', fields));
    else news.push(log('debug', 'registration-failed', fields));
    return to({ phase: 'backing-off', failures, registered: false, replacedStale: false }, ...news, { type: 'wait', ms });
  };

  const registered = (how: 'added' | 'entry exists' | 'no reply'): Step => {
    const fields = { attempts: state.failures + 1, ...(how === 'added' ? {} : { note: `${how}: taken as registered by a discovery server that is not conv's` }) };
    const news = !state.everRegistered ? log('info', 'registered', fields) : !state.registered ? log('info', 're-registered', fields) : log('debug', 'announced');
    return to({ phase: 'registered', failures: 0, registered: true, everRegistered: true, replacedStale: false, misses: 0 }, news, ...nextAnnouncement());
  };

  /** The next announcement: an ADD to conv's discovery, a LOOKUP that checks on us to any other. */
  const announce = (...before: RegistrationCommand[]): Step =>
    state.discovery === 'course' ? to({ phase: 'checking' }, ...before, lookup) : to({ phase: 'adding', replacedStale: false }, ...before, add);

  switch (event.type) {
    case 'stop':
      switch (state.phase) {
        case 'asking':
        case 'adding':
        case 'removing-stale':
        case 'checking':
          // A request is in flight; our REMOVE must not overtake its ADD on another connection.
          return to({ phase: 'stopping' }, { type: 'cancel-wait' });
        case 'idle':
        case 'registered':
        case 'backing-off':
          return to({ phase: 'removing-final' }, { type: 'cancel-wait' }, remove);
        case 'stopping':
        case 'removing-final':
        case 'stopped':
          return to({});
      }
      break;

    case 'start':
      if (state.phase !== 'idle') return to({});
      return to({ phase: 'asking' }, features);

    case 'timer':
      if (state.phase === 'backing-off') return state.discovery === 'unknown' ? to({ phase: 'asking' }, features) : to({ phase: 'adding', replacedStale: false }, add);
      if (state.phase !== 'registered') return to({});
      return announce();

    case 'resumed':
      // Announce now rather than at the end of an interval that was frozen with us.
      if ((state.phase !== 'registered' && state.phase !== 'backing-off') || state.discovery === 'unknown' || !context.reannounce) return to({});
      return announce({ type: 'cancel-wait' }, log('info', 'resumed'));

    case 'unreachable':
    case 'silent':
    case 'reply': {
      const reply = event.type === 'reply' ? event.reply : undefined;
      const why = event.type === 'reply' ? '' : event.reason;
      switch (state.phase) {
        case 'asking': {
          if (event.type === 'unreachable') return failed(why, false);
          // Anything but a FEATURES reply (a failure, another line, silence) means a course server.
          const features = reply?.kind === 'features' ? reply.features : [];
          const conv = features.includes('session');
          // No heartbeats (--no-reannounce, --lease 0): no lease either, or it would lapse.
          const heartbeats = context.reannounce && context.leaseMs !== undefined;
          const kind: DiscoveryKind = conv && heartbeats && features.includes('lease') ? 'leased' : conv ? 'conv' : 'course';
          return to(
            { phase: 'adding', discovery: kind },
            log('debug', 'discovery-features', { features: features.length > 0 ? features.join(' ') : 'none' }),
            addTo(kind),
          );
        }
        case 'adding':
          if (event.type === 'unreachable') return failed(why, false);
          if (event.type === 'silent') return state.discovery === 'course' ? registered('no reply') : failed(why, false);
          if (reply?.kind === 'success') return registered('added');
          if (reply !== undefined && isEntryExists(reply)) {
            // Another team's server refuses a second ADD of the same entry: we are in it.
            if (state.discovery === 'course') return registered('entry exists');
            if (!state.replacedStale) {
              const message = reply.kind === 'failure' ? reply.failure.message : '';
              return to({ phase: 'removing-stale', replacedStale: true }, log('warn', 'replacing-stale-entry', { discovery: message }), remove);
            }
          }
          return failed(reply ? replyText(reply) : why, true);
        case 'removing-stale':
          // SUCCESS, or NOT_REGISTERED because someone removed it first: either way, ADD again.
          if (event.type === 'unreachable') return failed(why, false);
          return to({ phase: 'adding' }, add);
        case 'checking': {
          const seen = reply?.kind === 'endpoint' && reply.endpoint.host === endpoint.host && reply.endpoint.port === endpoint.port;
          const gone = reply?.kind === 'failure' || (reply?.kind === 'endpoint' && !seen && state.misses + 1 >= MISSES_BEFORE_REANNOUNCE);
          if (gone) return to({ phase: 'adding', replacedStale: false, misses: 0 }, log('info', 'entry-gone', { lookup: replyText(reply) }), add);
          // Seen, another server of the pair named, or no answer (a server that never replies
          // gets one ADD, not a storm): look again next interval.
          const misses = seen ? 0 : reply?.kind === 'endpoint' ? state.misses + 1 : state.misses;
          return to({ phase: 'registered', misses }, { type: 'wait', ms: context.announceIntervalMs });
        }
        case 'stopping':
          return to({ phase: 'removing-final' }, remove);
        case 'removing-final':
          if (reply !== undefined && (reply.kind === 'success' || state.discovery === 'course')) {
            return to({ phase: 'stopped', registered: false }, log('info', 'unregistered'), { type: 'done' });
          }
          return to({ phase: 'stopped', registered: false }, log(reply ? 'info' : 'warn', 'unregister-failed', { reason: reply ? replyText(reply) : why }), { type: 'done' });
        case 'idle':
        case 'registered':
        case 'backing-off':
        case 'stopped':
          // A reply nobody waits for (it cannot happen with one request at a time); ignore it.
          return to({});
      }
    }
  }
  return to({});
}

function replyText(reply: DiscoveryReply | undefined): string {
  if (reply === undefined) return 'no reply';
  return reply.kind === 'failure' ? `${reply.failure.message} (${reply.failure.code})` : `unexpected ${reply.kind} reply`;
}
