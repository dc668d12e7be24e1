import type { Endpoint } from '@conv/protocol';
import { askDiscovery } from '@conv/server';
import type { ConverterFault } from './fault-plan';
import { type ServerProcess, sleep } from './server-process';

/**
 * A wrong `--factor` per pair a liar may be planted in: pairs whose answers discovery checks
 * exactly, so the liar is caught by its admission probe and marked `wrong`. Off by 0.4-1%: a
 * plausible misconfiguration, not a number no one would believe.
 */
export const LIAR_FACTORS: Readonly<Record<string, string>> = { 'in:cm': '2.55', 'cm:m': '0.0101' };
export const LIAR_PAIRS = Object.keys(LIAR_FACTORS);

export type ConverterFaultContext = {
  /** The discovery replicas that are up now (the drain's REMOVE goes to one of them). */
  readonly discoveries: () => readonly Endpoint[];
  /** Whether every discovery replica is up (the liar waits for its old registration to be gone on all of them). */
  readonly allDiscoveriesUp: () => boolean;
  readonly closed: () => boolean;
  readonly onRetry: (server: ServerProcess) => (error: Error) => void;
};

/** What a converter fault did, for the counters: `done`, or `skipped` when discovery was not in a state to carry it out. */
export type ConverterFaultOutcome = { kind: 'done'; restartRetries: number } | { kind: 'skipped' };

/** A bad redeploy (stop, start with a wrong factor), `lyingMs` of lying, then a good redeploy. */
export async function plantLiar(server: ServerProcess, host: string, fault: Extract<ConverterFault, { kind: 'lie-converter' }>, context: ConverterFaultContext): Promise<ConverterFaultOutcome> {
  const factor = LIAR_FACTORS[fault.target.pair];
  if (factor === undefined) throw new Error(`no liar factor for ${fault.target.pair}`);
  let restartRetries = 0;
  // SIGTERM: the converter deregisters, so the liar registers afresh and is probed before use.
  const endpoint = { host, port: server.port };
  await server.shutdown(5000);
  // A redeploy in place while discovery still lists the old registration `up` (its REMOVE was
  // lost to a discovery restart) would be used by proxies until the next probe: the system does
  // not claim to catch that (README, "Failure model"), so the bad redeploy waits for it to go.
  if (!(await registrationGone(endpoint, context))) {
    restartRetries += await server.start(5, context.onRetry(server));
    return { kind: 'skipped' };
  }
  server.extraArgs = ['--factor', factor];
  try {
    restartRetries += await server.start(5, context.onRetry(server));
    await sleep(fault.lyingMs);
  } finally {
    server.extraArgs = [];
  }
  if (context.closed()) return { kind: 'done', restartRetries };
  await server.shutdown(5000);
  restartRetries += await server.start(5, context.onRetry(server));
  return { kind: 'done', restartRetries };
}

/**
 * The operator's drain: `REMOVE <host> <port>` of a live replica, sent from its own host (the
 * owner's rule; loopback here). The replica keeps running; the proxy must stop sending it
 * requests when the removal arrives, and the replica comes back at its next announcement.
 */
export async function drainReplica(server: ServerProcess, host: string, context: ConverterFaultContext): Promise<ConverterFaultOutcome> {
  const discovery = context.discoveries()[0];
  if (discovery === undefined) return { kind: 'skipped' };
  const reply = await askDiscovery(discovery, { verb: 'REMOVE', endpoint: { host, port: server.port } }, { timeoutMs: 2000 });
  // NOT_REGISTERED: its registration was already gone (a report probed it down and swept it); nothing to drain.
  if (reply.kind === 'failure' && reply.failure.code !== 'NOT_REGISTERED') throw new Error(`REMOVE answered ${reply.failure.code}: ${reply.failure.message}`);
  return { kind: 'done', restartRetries: 0 };
}

/** Polls every discovery replica's LIST until none lists `endpoint` as `up` (all replicas up); false after 10 s. */
async function registrationGone(endpoint: Endpoint, context: ConverterFaultContext): Promise<boolean> {
  const deadline = Date.now() + 10_000;
  while (Date.now() < deadline && !context.closed()) {
    if (context.allDiscoveriesUp()) {
      const replies = await Promise.all(context.discoveries().map((d) => askDiscovery(d, { verb: 'LIST' }, { timeoutMs: 2000 }).catch(() => undefined)));
      const stillUp = (reply: (typeof replies)[number]) =>
        reply?.kind !== 'list' || reply.registrations.some((r) => r.endpoint.host === endpoint.host && r.endpoint.port === endpoint.port && r.health === 'up');
      if (!replies.some(stillUp)) return true;
    }
    await sleep(100);
  }
  return false;
}
