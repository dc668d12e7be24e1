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
  backoff: defaultBackoff(5000),
  random: () => 1,
};
const ADD = { type: 'send', request: { verb: 'ADD', units: ['ft', 'in'], endpoint: { host: '127.0.0.1', port: 5557 } } };
const REMOVE = { type: 'send', request: { verb: 'REMOVE', endpoint: { host: '127.0.0.1', port: 5557 } } };
const success: RegistrationEvent = { type: 'reply', reply: { kind: 'success' } };
const unreachable: RegistrationEvent = { type: 'unreachable', reason: 'ECONNREFUSED' };
const entryExists: RegistrationEvent = {
  type: 'reply',
  reply: { kind: 'failure', failure: failure('ENTRY_EXISTS', '127.0.0.1 5557 is registered for b lbs; REMOVE it first.') },
};

/** Runs events from the initial state; returns the final state and every command, logs as `level event`. */
function run(...events: RegistrationEvent[]): { state: RegistrationState; commands: unknown[] } {
  let state = INITIAL_REGISTRATION;
  const commands: unknown[] = [];
  for (const event of [{ type: 'start' } as const, ...events]) {
    const step = stepRegistration(state, event, context);
    state = step.state;
    commands.push(...step.commands.map(show));
  }
  return { state, commands };
}

function show(command: RegistrationCommand): unknown {
  return command.type === 'log' ? `${command.level} ${command.event}` : command;
}

describe('registration, as a pure state machine', () => {
  it('ADDs on start, logs the first success and re-announces every interval', () => {
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
    expect(backoffDelay(10, defaultBackoff(300), 1)).toBe(300);
    expect(backoffDelay(10, defaultBackoff(50), 1)).toBe(200);
  });
});
