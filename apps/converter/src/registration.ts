import type { DiscoveryReply, DiscoveryRequest, Endpoint } from '@conv/protocol';
import type { LogFields, LogLevel } from '@conv/server';
import type { UnitPair } from './pair';

/**
 * Registration that stays true, as a pure state machine: events in (start, timer, a reply
 * from discovery, discovery unreachable, stop), new state and commands out (send a request,
 * wait, log, done). registration-driver.ts runs the commands with sockets and timers.
 *
 *   idle --start--> adding --SUCCESS--> registered --announce interval--> adding ...
 *   adding --FAILURE entry exists.--> removing-stale --any reply--> adding (once per cycle)
 *   adding / removing-stale --unreachable or refused--> backing-off --backoff--> adding
 *   any --stop--> (stopping: wait for the request in flight) --> removing-final --> stopped
 */
export type RegistrationPhase =
  | 'idle'
  | 'adding'
  | 'removing-stale'
  | 'registered'
  | 'backing-off'
  | 'stopping'
  | 'removing-final'
  | 'stopped';

export type RegistrationState = {
  readonly phase: RegistrationPhase;
  /** Consecutive failed attempts; sets the backoff. */
  readonly failures: number;
  /** Whether the last ADD succeeded (discovery knows us, as far as we know). */
  readonly registered: boolean;
  readonly everRegistered: boolean;
  /** Whether this ADD cycle already removed a stale entry (so we do not loop on ENTRY_EXISTS). */
  readonly replacedStale: boolean;
};

export type RegistrationEvent =
  | { readonly type: 'start' }
  | { readonly type: 'timer' }
  | { readonly type: 'reply'; readonly reply: DiscoveryReply }
  | { readonly type: 'unreachable'; readonly reason: string }
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
  /** Sent with ADD and REMOVE when discovery requires a shared secret. */
  readonly token?: string | undefined;
  readonly backoff: BackoffPolicy;
  /** A number in [0, 1) for jitter; injected so the machine stays pure. */
  readonly random: () => number;
};

export type BackoffPolicy = { readonly baseMs: number; readonly maxMs: number };

export const INITIAL_REGISTRATION: RegistrationState = Object.freeze({
  phase: 'idle',
  failures: 0,
  registered: false,
  everRegistered: false,
  replacedStale: false,
});

/** The default policy: 200 ms doubling to 5 s, never longer than the announce interval. */
export function defaultBackoff(announceIntervalMs: number): BackoffPolicy {
  const baseMs = 200;
  return { baseMs, maxMs: Math.max(baseMs, Math.min(5000, announceIntervalMs)) };
}

/** Exponential backoff with "equal jitter": between half and all of the capped delay. */
export function backoffDelay(failures: number, policy: BackoffPolicy, random: number): number {
  const exponent = Math.min(Math.max(failures - 1, 0), 30);
  const capped = Math.min(policy.maxMs, policy.baseMs * 2 ** exponent);
  return Math.round(capped / 2 + (capped / 2) * random);
}

/** Seed servers answer `Failure entry exists.`; ours add `(ENTRY_EXISTS)`. Either counts. */
export function isEntryExists(reply: DiscoveryReply): boolean {
  return reply.kind === 'failure' && (reply.failure.code === 'ENTRY_EXISTS' || /entry exists\./i.test(reply.failure.message));
}

type Step = { readonly state: RegistrationState; readonly commands: readonly RegistrationCommand[] };

export function stepRegistration(
  state: RegistrationState,
  event: RegistrationEvent,
  context: RegistrationContext,
): Step {
  const { units, endpoint, token } = context;
  const where = { host: endpoint.host, port: endpoint.port, pair: `${units[0]}:${units[1]}` };
  const add: RegistrationCommand = { type: 'send', request: { verb: 'ADD', units: [units[0], units[1]], endpoint, token } };
  const remove: RegistrationCommand = { type: 'send', request: { verb: 'REMOVE', endpoint, token } };
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

  const failed = (reason: string, refused: boolean): Step => {
    const failures = state.failures + 1;
    const ms = backoffDelay(failures, context.backoff, context.random());
    const fields = { reason, attempt: failures, retryInMs: ms };
    // The first failure of a streak is news; the rest of the streak is noise at info level.
    const news: RegistrationCommand[] = [];
    if (state.registered) news.push(log('warn', 'registration-lost', fields));
    else if (failures === 1 || refused) news.push(log('warn', 'registration-failed', fields));
    else news.push(log('debug', 'registration-failed', fields));
    return to({ phase: 'backing-off', failures, registered: false, replacedStale: false }, ...news, { type: 'wait', ms });
  };

  switch (event.type) {
    case 'stop':
      switch (state.phase) {
        case 'adding':
        case 'removing-stale':
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
      return to({ phase: 'adding', replacedStale: false }, add);

    case 'timer':
      if (state.phase !== 'registered' && state.phase !== 'backing-off') return to({});
      return to({ phase: 'adding', replacedStale: false }, add);

    case 'resumed':
      // Announce now rather than at the end of an interval that was frozen with us.
      if (state.phase !== 'registered' && state.phase !== 'backing-off') return to({});
      return to({ phase: 'adding', replacedStale: false }, { type: 'cancel-wait' }, log('info', 'resumed'), add);

    case 'unreachable':
    case 'reply': {
      const reply = event.type === 'reply' ? event.reply : undefined;
      switch (state.phase) {
        case 'adding':
          if (!reply) return failed(event.type === 'unreachable' ? event.reason : 'no reply', false);
          if (reply.kind === 'success') {
            const fields = { attempts: state.failures + 1 };
            const news = !state.everRegistered
              ? log('info', 'registered', fields)
              : !state.registered
                ? log('info', 're-registered', fields)
                : log('debug', 'announced');
            return to(
              { phase: 'registered', failures: 0, registered: true, everRegistered: true, replacedStale: false },
              news,
              { type: 'wait', ms: context.announceIntervalMs },
            );
          }
          if (isEntryExists(reply) && !state.replacedStale) {
            const message = reply.kind === 'failure' ? reply.failure.message : '';
            return to(
              { phase: 'removing-stale', replacedStale: true },
              log('warn', 'replacing-stale-entry', { discovery: message }),
              remove,
            );
          }
          return failed(replyText(reply), true);
        case 'removing-stale':
          // SUCCESS, or NOT_REGISTERED because someone removed it first: either way, ADD again.
          if (!reply) return failed(event.type === 'unreachable' ? event.reason : 'no reply', false);
          return to({ phase: 'adding' }, add);
        case 'stopping':
          return to({ phase: 'removing-final' }, remove);
        case 'removing-final':
          if (reply?.kind === 'success') return to({ phase: 'stopped', registered: false }, log('info', 'unregistered'), { type: 'done' });
          return to(
            { phase: 'stopped', registered: false },
            log(reply ? 'info' : 'warn', 'unregister-failed', {
              reason: reply ? replyText(reply) : event.type === 'unreachable' ? event.reason : 'no reply',
            }),
            { type: 'done' },
          );
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

function replyText(reply: DiscoveryReply): string {
  return reply.kind === 'failure' ? `${reply.failure.message} (${reply.failure.code})` : `unexpected ${reply.kind} reply`;
}
