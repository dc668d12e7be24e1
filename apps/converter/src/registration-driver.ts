import type { DiscoveryReply, DiscoveryRequest, Endpoint } from '@conv/protocol';
import { DiscoveryReplicas, DiscoverySession, type Logger, ServerError } from '@conv/server';
import {
  INITIAL_REGISTRATION,
  type RegistrationCommand,
  type RegistrationContext,
  type RegistrationEvent,
  type RegistrationState,
  defaultBackoff,
  stepRegistration,
} from './registration';

/** The registration's context (see registration.ts), less what the driver supplies, plus where and how to talk. */
export type RegistrationOptions = Omit<RegistrationContext, 'backoff' | 'random'> & {
  /** Discovery replicas: requests go to the one that last answered, the next one on failure. */
  readonly discovery: readonly Endpoint[];
  readonly log: Logger;
  /** How long one request to discovery may take. */
  readonly requestTimeoutMs?: number;
};

export interface Registration {
  readonly state: RegistrationState;
  /** Sends REMOVE (after any request in flight) and resolves when done or after `timeoutMs`. */
  stop(timeoutMs: number): Promise<void>;
  /** After a SIGSTOP/SIGCONT: announces at once instead of at the end of the frozen interval. */
  resumed(): void;
}

/** The imperative shell of registration.ts: runs its commands with sockets and timers. */
export function startRegistration(options: RegistrationOptions): Registration {
  const { log } = options;
  const requestTimeoutMs = options.requestTimeoutMs ?? 2000;
  const context: RegistrationContext = {
    units: options.units,
    endpoint: options.endpoint,
    announceIntervalMs: options.announceIntervalMs,
    leaseMs: options.leaseMs,
    heartbeatIntervalMs: options.heartbeatIntervalMs ?? options.announceIntervalMs,
    reannounce: options.reannounce,
    token: options.token,
    backoff: defaultBackoff(options.announceIntervalMs),
    random: Math.random,
  };
  let state = INITIAL_REGISTRATION;
  let timer: NodeJS.Timeout | undefined;
  let markDone: () => void = () => undefined;
  const done = new Promise<void>((resolve) => (markDone = resolve));

  const dispatch = (event: RegistrationEvent): void => {
    const step = stepRegistration(state, event, context);
    state = step.state;
    for (const command of step.commands) run(command);
  };

  const replicas = new DiscoveryReplicas(options.discovery, log);
  // Heartbeats go over one persistent connection (SESSION first): a connection per heartbeat
  // would cost discovery an accept and a close grace each, thousands a second at scale.
  let session: DiscoverySession | undefined;
  const heartbeats = (): DiscoverySession => {
    if (session === undefined) {
      session = new DiscoverySession({ addresses: options.discovery, timeoutMs: requestTimeoutMs, log, whileDown: 'heartbeats retry; the lease may lapse meanwhile' });
      session.start();
    }
    return session;
  };
  const send = (request: DiscoveryRequest): void => {
    log.debug('discovery-request', { verb: request.verb });
    const reply = state.discovery === 'leased' ? heartbeats().request(request) : replicas.request(request, requestTimeoutMs);
    reply.then(
      (reply: DiscoveryReply) => dispatch({ type: 'reply', reply }),
      (error: unknown) => {
        const reason = error instanceof Error ? error.message : String(error);
        dispatch(error instanceof ServerError && error.code === 'DISCOVERY_SILENT' ? { type: 'silent', reason } : { type: 'unreachable', reason });
      },
    );
  };

  const run = (command: RegistrationCommand): void => {
    switch (command.type) {
      case 'send':
        send(command.request);
        return;
      case 'wait':
        clearTimeout(timer);
        timer = setTimeout(() => dispatch({ type: 'timer' }), command.ms);
        return;
      case 'cancel-wait':
        clearTimeout(timer);
        timer = undefined;
        return;
      case 'log':
        log[command.level](command.event, command.fields);
        return;
      case 'done':
        markDone();
        return;
    }
  };

  dispatch({ type: 'start' });

  return {
    get state() {
      return state;
    },
    resumed(): void {
      dispatch({ type: 'resumed' });
    },
    async stop(timeoutMs: number): Promise<void> {
      dispatch({ type: 'stop' });
      let deadline: NodeJS.Timeout | undefined;
      const expired = new Promise<void>((resolve) => (deadline = setTimeout(resolve, timeoutMs)));
      await Promise.race([done, expired]);
      clearTimeout(deadline);
      clearTimeout(timer);
      session?.close();
      if (state.phase !== 'stopped') log.warn('unregister-timeout', { timeoutMs });
    },
  };
}
