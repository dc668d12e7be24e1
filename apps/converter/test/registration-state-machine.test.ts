import { describe, expect, it } from 'vitest';
import { failure } from '@conv/protocol';
import {
  INITIAL_REGISTRATION,
  type RegistrationCommand,
  type RegistrationContext,
  type RegistrationEvent,
  type RegistrationState,
  backoffDelay,
  defaultBackoff,
  isEntryExists,
  stepRegistration,
} from '../src/registration';

const context: RegistrationContext = {
  units: ['ft', 'in'],
  endpoint: { host: '127.0.0.1', port: 5557 },
  announceIntervalMs: 5000,
  reannounce: true,
  backoff: defaultBackoff(5000),
  random: () => 1,
};
const ADD = { type: 'send', request: { verb: 'ADD', units: ['ft', 'in'], endpoint: { host: '127.0.0.1', port: 5557 } } };
const REMOVE = { type: 'send', request: { verb: 'REMOVE', endpoint: { host: '127.0.0.1', port: 5557 } } };
const FEATURES = { type: 'send', request: { verb: 'FEATURES' } };
const LOOKUP = { type: 'send', request: { verb: 'LOOKUP', units: ['ft', 'in'] } };
const success: RegistrationEvent = { type: 'reply', reply: { kind: 'success' } };
const conv: RegistrationEvent = { type: 'reply', reply: { kind: 'features', features: ['session', 'remove-pair'] } };
const courseFeatures: RegistrationEvent = { type: 'reply', reply: { kind: 'failure', failure: failure('UNSPECIFIED', 'unknown command') } };
const silent: RegistrationEvent = { type: 'silent', reason: 'no reply within 2000 ms' };
const lookedUp = (port: number): RegistrationEvent => ({ type: 'reply', reply: { kind: 'endpoint', endpoint: { host: '127.0.0.1', port } } });
const unreachable: RegistrationEvent = { type: 'unreachable', reason: 'ECONNREFUSED' };
const entryExists: RegistrationEvent = {
  type: 'reply',
  reply: { kind: 'failure', failure: failure('ENTRY_EXISTS', '127.0.0.1 5557 is registered for b lbs; REMOVE it first.') },
};

/**
 * Runs events from the initial state against conv's discovery (it lists `session` in FEATURES);
 * returns the final state and every command after the FEATURES exchange, logs as `level event`.
 */
function run(...events: RegistrationEvent[]): { state: RegistrationState; commands: unknown[] } {
  const all = against([conv, ...events]);
  expect(all.commands.slice(0, 2)).toEqual([FEATURES, 'debug discovery-features']);
  return { state: all.state, commands: all.commands.slice(2) };
}

/** Runs events from the initial state, FEATURES exchange included, with `options` over the context. */
function against(events: RegistrationEvent[], options: Partial<RegistrationContext> = {}): { state: RegistrationState; commands: unknown[] } {
  let state = INITIAL_REGISTRATION;
  const commands: unknown[] = [];
  for (const event of [{ type: 'start' } as const, ...events]) {
    const step = stepRegistration(state, event, { ...context, ...options });
    state = step.state;
    commands.push(...step.commands.map(show));
  }
  return { state, commands };
}

function show(command: RegistrationCommand): unknown {
  return command.type === 'log' ? `${command.level} ${command.event}` : command;
}

describe('heartbeats to a discovery that takes leases', () => {
  const leasing = { leaseMs: 5000, heartbeatIntervalMs: 1500 };
  const withLease: RegistrationEvent = { type: 'reply', reply: { kind: 'features', features: ['session', 'report', 'watch', 'lease'] } };
  const LEASED_ADD = { type: 'send', request: { ...ADD.request, leaseMs: 5000 } };

  it('ADDs with lease= every heartbeat interval, and retries within one', () => {
    const { state, commands } = against([withLease, success, { type: 'timer' }, success, { type: 'timer' }, unreachable], leasing);
    expect(state).toMatchObject({ discovery: 'leased', phase: 'backing-off' });
    expect(commands).toEqual([
      FEATURES, 'debug discovery-features',
      LEASED_ADD, 'info registered', { type: 'wait', ms: 1500 },
      LEASED_ADD, 'debug announced', { type: 'wait', ms: 1500 },
      LEASED_ADD, 'warn registration-lost', { type: 'wait', ms: 200 },
    ]);
    const retries = against([withLease, unreachable, ...Array.from({ length: 6 }, () => [{ type: 'timer' } as const, unreachable]).flat()], leasing).commands;
    expect(retries.filter((c): c is { type: 'wait'; ms: number } => typeof c === 'object' && (c as { type?: string }).type === 'wait').map((c) => c.ms)).toEqual([200, 400, 800, 1500, 1500, 1500, 1500]);
  });

  it('asks for no lease from a discovery that does not list it, with --lease 0, or with --no-reannounce', () => {
    expect(against([conv, success], leasing).commands.slice(2, 3)).toEqual([ADD]);
    expect(against([withLease, success], { ...leasing, leaseMs: undefined }).commands).toEqual([FEATURES, 'debug discovery-features', ADD, 'info registered', { type: 'wait', ms: 5000 }]);
    expect(against([withLease, success], { ...leasing, reannounce: false }).commands).toEqual([FEATURES, 'debug discovery-features', ADD, 'info registered']);
    // A course server gets the course protocol, whatever the flags.
    expect(against([courseFeatures, success, { type: 'timer' }], leasing).commands).toEqual([FEATURES, 'debug discovery-features', ADD, 'info registered', { type: 'wait', ms: 5000 }, LOOKUP]);
  });
});

describe('registration, as a pure state machine', () => {
  it('asks FEATURES first, then ADDs, logs the first success and re-announces every interval to conv\'s discovery', () => {
    expect(against([]).commands).toEqual([FEATURES]);
    const { state, commands } = run(success, { type: 'timer' }, success);
    expect(state).toMatchObject({ phase: 'registered', registered: true, failures: 0 });
    expect(commands).toEqual([ADD, 'info registered', { type: 'wait', ms: 5000 }, ADD, 'debug announced', { type: 'wait', ms: 5000 }]);
  });

  it('retries with growing backoff while discovery is down, and says so once', () => {
    const { state, commands } = run(unreachable, { type: 'timer' }, unreachable, { type: 'timer' }, unreachable);
    expect(state).toMatchObject({ phase: 'backing-off', failures: 3, registered: false });
    expect(commands).toEqual([
      ADD, 'warn registration-failed', { type: 'wait', ms: 200 },
      ADD, 'debug registration-failed', { type: 'wait', ms: 400 },
      ADD, 'debug registration-failed', { type: 'wait', ms: 800 },
    ]);
  });

  it('announces at once when resumed after a freeze, cancelling the frozen interval', () => {
    const { state, commands } = run(success, { type: 'resumed' }, success);
    expect(state).toMatchObject({ phase: 'registered', registered: true });
    expect(commands).toEqual([
      ADD, 'info registered', { type: 'wait', ms: 5000 },
      { type: 'cancel-wait' }, 'info resumed', ADD, 'debug announced', { type: 'wait', ms: 5000 },
    ]);
    // While a request is in flight, or once stopping, a resume changes nothing.
    expect(run({ type: 'resumed' }).commands).toEqual([ADD]);
  });

  it('logs a re-registration after discovery was lost', () => {
    const { commands } = run(success, { type: 'timer' }, unreachable, { type: 'timer' }, success);
    expect(commands.filter((c) => typeof c === 'string')).toEqual(['info registered', 'warn registration-lost', 'info re-registered']);
  });

  it('on "FAILURE entry exists." REMOVEs the stale entry and ADDs again, as the seed does', () => {
    expect(run(entryExists, success, success).commands).toEqual([
      ADD, 'warn replacing-stale-entry', REMOVE, ADD, 'info registered', { type: 'wait', ms: 5000 },
    ]);
  });

  it('accepts a REMOVE refused as not registered before ADDing again', () => {
    const notRegistered: RegistrationEvent = { type: 'reply', reply: { kind: 'failure', failure: failure('NOT_REGISTERED') } };
    expect(run(entryExists, notRegistered, success).state.phase).toBe('registered');
  });

  it('backs off instead of looping when the entry exists again right after the REMOVE', () => {
    const { state, commands } = run(entryExists, success, entryExists);
    expect(state.phase).toBe('backing-off');
    expect(commands.slice(-2)).toEqual(['warn registration-failed', { type: 'wait', ms: 200 }]);
  });

  it('recognizes a seed server\'s "Failure entry exists." without a code', () => {
    expect(isEntryExists({ kind: 'failure', failure: { code: 'UNSPECIFIED', message: 'Entry Exists.' } })).toBe(true);
    expect(isEntryExists({ kind: 'failure', failure: failure('BAD_HOST') })).toBe(false);
  });

  it('on stop cancels its timer and REMOVEs itself', () => {
    const stopped = run(success, { type: 'stop' }, success);
    expect(stopped.commands.slice(-4)).toEqual([{ type: 'cancel-wait' }, REMOVE, 'info unregistered', { type: 'done' }]);
    expect(stopped.state.phase).toBe('stopped');
  });

  it('on stop during an ADD waits for its reply before the REMOVE, so the REMOVE cannot overtake it', () => {
    const { commands } = run({ type: 'stop' }, success, unreachable);
    expect(commands).toEqual([ADD, { type: 'cancel-wait' }, REMOVE, 'warn unregister-failed', { type: 'done' }]);
  });

  it('ignores timers after stopping', () => {
    expect(run({ type: 'stop' }, { type: 'timer' }).commands).toEqual([ADD, { type: 'cancel-wait' }]);
  });

  it('backs off when conv\'s discovery takes an ADD and never answers it, and retries', () => {
    const { state, commands } = run(silent, { type: 'timer' }, success);
    expect(state.phase).toBe('registered');
    expect(commands).toEqual([ADD, 'warn registration-failed', { type: 'wait', ms: 200 }, ADD, 'info registered', { type: 'wait', ms: 5000 }]);
  });
});

describe('registration with a discovery server that is not conv\'s', () => {
  it('takes anything but a FEATURES reply (a failure, another line, silence) as a course server, and ADDs', () => {
    for (const answer of [courseFeatures, silent, { type: 'reply', reply: { kind: 'pong' } } as const]) {
      expect(against([answer]).state).toMatchObject({ phase: 'adding', discovery: 'course' });
    }
    expect(against([{ type: 'reply', reply: { kind: 'features', features: ['watch'] } }]).state.discovery).toBe('course');
  });

  it('announces once, then only checks with a LOOKUP each interval while it is seen', () => {
    const { state, commands } = against([courseFeatures, success, { type: 'timer' }, lookedUp(5557), { type: 'timer' }, lookedUp(5557)]);
    expect(state).toMatchObject({ phase: 'registered', misses: 0 });
    expect(commands.filter((c) => JSON.stringify(c) === JSON.stringify(ADD))).toHaveLength(1);
    expect(commands.slice(-4)).toEqual([LOOKUP, { type: 'wait', ms: 5000 }, LOOKUP, { type: 'wait', ms: 5000 }]);
  });

  it('ADDs again when a LOOKUP shows the entry gone: a failure, or another server named eight times in a row', () => {
    const gone = against([courseFeatures, success, { type: 'timer' }, { type: 'reply', reply: { kind: 'failure', failure: failure('UNSPECIFIED', 'no such pair') } }]);
    expect(gone.commands.slice(-2)).toEqual(['info entry-gone', ADD]);
    const others: RegistrationEvent[] = [courseFeatures, success];
    for (let i = 0; i < 7; i++) others.push({ type: 'timer' }, lookedUp(6000 + i));
    expect(against(others).state).toMatchObject({ phase: 'registered', misses: 7 });
    expect(against([...others, { type: 'timer' }, lookedUp(6100)]).commands.slice(-2)).toEqual(['info entry-gone', ADD]);
  });

  it('takes "FAILURE EXISTS" or "failure exist" as registered, not as a lost registration', () => {
    for (const message of ['EXISTS', 'exist', 'entry exists.']) {
      const refused: RegistrationEvent = { type: 'reply', reply: { kind: 'failure', failure: { code: 'UNSPECIFIED', message } } };
      const { state, commands } = against([courseFeatures, refused]);
      expect(state, message).toMatchObject({ phase: 'registered', registered: true });
      expect(commands).not.toContainEqual(REMOVE);
    }
  });

  it('gives a server that never replies one ADD, not a storm', () => {
    const { state, commands } = against([silent, silent, { type: 'timer' }, silent, { type: 'timer' }, silent]);
    expect(state.phase).toBe('registered');
    expect(commands.filter((c) => JSON.stringify(c) === JSON.stringify(ADD))).toHaveLength(1);
  });

  it('with --no-reannounce ADDs once and waits for nothing until the REMOVE at exit', () => {
    const { state, commands } = against([conv, success, { type: 'resumed' }, { type: 'stop' }, success], { reannounce: false });
    expect(state.phase).toBe('stopped');
    expect(commands.filter((c) => typeof c === 'object' && c !== null && 'type' in c && (c as { type: string }).type === 'wait')).toEqual([]);
    expect(commands.filter((c) => JSON.stringify(c) === JSON.stringify(ADD))).toHaveLength(1);
    expect(commands).toContainEqual(REMOVE);
  });
});

describe('backoff', () => {
  it('doubles from 200 ms to at most 5 s, jittered between half and all of it', () => {
    const policy = defaultBackoff(5000);
    expect([1, 2, 3, 4, 5, 6, 7, 30, 100].map((n) => backoffDelay(n, policy, 1))).toEqual([
      200, 400, 800, 1600, 3200, 5000, 5000, 5000, 5000,
    ]);
    expect(backoffDelay(3, policy, 0)).toBe(400);
  });

  it('never waits longer than the announce interval', () => {
    for (const interval of [10, 50, 199, 200, 300, 1000, 4999, 5000, 60_000]) {
      const policy = defaultBackoff(interval);
      for (let failures = 1; failures <= 40; failures++) {
        for (const random of [0, 0.5, 1]) {
          expect(backoffDelay(failures, policy, random), `interval ${interval}, failure ${failures}`).toBeLessThanOrEqual(interval);
        }
      }
    }
    // It does wait up to the interval (or 5 s) once failures pile up.
    expect(backoffDelay(10, defaultBackoff(300), 1)).toBe(300);
    expect(backoffDelay(10, defaultBackoff(50), 1)).toBe(50);
    expect(backoffDelay(10, defaultBackoff(60_000), 1)).toBe(5000);
  });
});
