import { existsSync, mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { Registry, RegistryError } from '@conv/registry';
import {
  type LineSession,
  type Logger,
  type RunningServer,
  formatBanner,
  jsonReply,
  startLineServer,
  startOperatorPort,
} from '@conv/server';
import type { Config } from './config';
import { DiscoveryError } from './errors';
import { HealthMonitor } from './health-monitor';
import { startLeaseClock } from './lease-clock';
import { createDiscoveryMetrics, withMetrics } from './metrics';
import { type Prober, type ThreadedProber, createConversionProber, createThreadedProber } from './probe';
import { DiscoveryService, type HealthChecks } from './session';
import { watchersWithFigures } from './watcher-figures';
import { STATUS_PAGE_HTML } from './status-page';
import { statusReport } from './status';
import { type StatusReport, formatAddress } from '@conv/protocol';

/** Sent to each new connection with --greeting (seed clients read the first line as the answer, so off by default). */
export const GREETING = 'HELLO discovery - send HELP for commands\n';

/**
 * How often the `served` counts are written to the registry file: never per LOOKUP, and often
 * enough that a SIGKILL loses only seconds of statistics (close, on SIGTERM, writes them all).
 */
export const SERVED_FLUSH_MS = 5_000;

export type RunningDiscovery = RunningServer & {
  readonly host: string;
  readonly port: number;
  /** The registry file as opened (absolute), ':memory:', or the etcd store. */
  readonly db: string;
  readonly restored: number;
};

/**
 * Wires a discovery server from a validated config: registry, health checks, protocol, TCP.
 * Throws DiscoveryError REGISTRY_REFUSED or ServerError LISTEN_FAILED without leaving anything open.
 */
export async function startDiscovery(config: Config, log: Logger, options: { probe?: Prober } = {}): Promise<RunningDiscovery> {
  // --store etcd://...: a registry shared with other replicas; otherwise the SQLite file.
  // Loaded only then: the etcd client (gRPC) costs more start-up CPU than all the rest of discovery.
  const shared = config.store === undefined ? undefined : await (await import('./etcd-registry')).openEtcdRegistry(config, log);
  const db = shared !== undefined ? `${shared.description} (shared)` : config.db === ':memory:' ? ':memory:' : resolve(config.db);
  const registry = shared?.registry ?? openRegistry(db, config);
  let monitor: HealthMonitor | undefined;
  const prober = proberFor(config, log, options.probe);
  try {
    monitor = new HealthMonitor({
      registry,
      probe: prober.probe,
      intervalMs: config.checkIntervalMs,
      concurrency: config.checkConcurrency,
      maxProbeRate: config.maxProbeRate,
      admissionRate: config.admissionRate,
      sweepEveryMs: Math.min(1000, Math.max(50, Math.floor(Math.min(config.downGraceMs, config.pendingGraceMs) / 4))),
      log,
    });
    const service = new DiscoveryService({
      registry,
      checks: config.classroom ? NO_CHECKS : monitor,
      log,
      trustRegistrations: config.trustRegistrations,
      token: config.token,
      maxPendingPerSource: config.maxPendingPerSource,
      maxPending: config.maxPending,
      // Only etcd makes a change wait; with SQLite a reply waits only for an admission probe of a
      // restarted server, which must not be answered as an unconfirmed change.
      ...(config.store === undefined || config.sessionWriteWaitMs === 0 ? {} : { sessionWriteWaitMs: config.sessionWriteWaitMs }),
    });
    const restored = registry.registrations();
    for (const registration of restored) monitor.track(registration.endpoint, registration.pair);
    shared?.follow(monitor);
    const probes = monitor;
    // Read at scrape time only, after `server` below exists.
    const metrics = config.httpPort === undefined ? undefined : createDiscoveryMetrics({ registry, probes: () => probes.stats, reports: () => service.reports.stats, connections: () => server.connections });
    const answer = withMetrics(metrics, (line, peer) => service.answer(line, peer));

    const server = await startLineServer({
      host: config.host,
      port: config.port,
      maxConnections: config.maxConnections,
      idleTimeoutMs: config.idleTimeoutMs,
      // Course clients read until the server closes: nothing unsolicited is ever written.
      idleNotice: false,
      closeGraceMs: config.closeGraceMs,
      maxLineBytes: config.maxLineBytes,
      log,
      session: (connection) => {
        const session = service.connect(connection, { greeting: config.greeting ? GREETING : '', answer });
        return config.classroom ? keptOpen(session) : session;
      },
    });
    // Restored endpoints may have died while we were down: each is pending until its probe says up.
    for (const registration of restored) monitor.probeNow(registration.endpoint, { confirm: true });
    if (!config.classroom) monitor.start();
    // A lapsed lease is `down` at once, whatever the probes' schedule: the clock asks the registry.
    const leases = startLeaseClock(registry, log);

    const address = server.address;
    const shown = formatAddress(address);
    const count = `${restored.length} registration${restored.length === 1 ? '' : 's'} restored`;
    const banner = formatBanner({ what: 'discovery', address, listenHost: config.host, notes: [`registry ${db}, ${count}`, ...(config.classroom ? [CLASSROOM_NOTE] : [])] });
    log.info('start', { address: shown, db, restored: restored.length, checkIntervalMs: config.checkIntervalMs });
    for (const registration of restored) {
      log.debug('restored', { endpoint: formatAddress(registration.endpoint), pair: `${registration.pair[0]}/${registration.pair[1]}` });
    }

    const startedAt = Date.now();
    const http =
      metrics && config.httpPort !== undefined
        ? await startOperatorPort({
            host: config.host,
            port: config.httpPort,
            log,
            service: 'discovery',
            facts: { address: shown },
            metrics: metrics.registry,
            startedAt,
            routes: {
              '/': () => ({ type: 'text/html; charset=utf-8', body: STATUS_PAGE_HTML }),
              '/status.json': async () => {
                const report = statusReport(registry, { address: shown, registry: db, shared: shared !== undefined, pid: process.pid, startedAt, now: Date.now() });
                // The proxies (and others) that watch this server, each proxy with its figures.
                return jsonReply({ ...report, watchers: await watchersWithFigures(service.watchers.list()) } satisfies StatusReport);
              },
            },
          }).catch(async (error: unknown) => {
            await server.close(0);
            throw error;
          })
        : undefined;

    const flushServed = () => {
      try {
        const endpoints = registry.flushServed();
        if (endpoints > 0) log.debug('served-flushed', { endpoints });
      } catch (error) {
        log.warn('served-flush-failed', { error: error instanceof Error ? error.message : String(error) });
      }
    };
    const flusher = shared === undefined ? setInterval(flushServed, SERVED_FLUSH_MS).unref() : undefined;

    const checks = monitor;
    let closing: Promise<void> | undefined;
    return {
      host: address.host,
      port: address.port,
      db,
      restored: restored.length,
      banner,
      close: () =>
        (closing ??= (async () => {
          await http?.close();
          await server.close(config.shutdownTimeoutMs);
          await checks.stop();
          await prober.close();
          leases.stop();
          const kept = registry.counts().endpoints;
          clearInterval(flusher);
          // Nothing hands endpoints out any more: the counts written now are final.
          flushServed();
          registry.close();
          await shared?.close();
          log.info('shutdown', { registrations: kept });
        })()),
    };
  } catch (error) {
    await monitor?.stop();
    await prober.close();
    registry.close();
    await shared?.close();
    throw error;
  }
}

/**
 * The health checks' prober: on this thread, in a thread of their own with --probe-thread (its
 * script is dist/probe-worker.js, beside this bundle), or the one a test gives.
 */
function proberFor(config: Config, log: Logger, given: Prober | undefined): ThreadedProber {
  if (given !== undefined) return { probe: given, close: () => Promise.resolve() };
  if (!config.probeThread) return { probe: createConversionProber({ timeoutMs: config.checkTimeoutMs }), close: () => Promise.resolve() };
  return createThreadedProber({
    timeoutMs: config.checkTimeoutMs,
    script: new URL('./probe-worker.js', import.meta.url),
    onFallback: (reason) => log.warn('probe-thread-lost', { reason, probing: 'on the main thread' }),
  });
}

/** What --classroom turns off, said in the banner so that nobody mistakes a demo for a registry. */
export const CLASSROOM_NOTE =
  'classroom mode: ADD is trusted and handed out at once, nothing is ever probed or health-checked, connections stay open without SESSION, nothing is kept after exit';

/** Classroom mode's health checks: none. Registrations are trusted, and reports change only what they say. */
const NO_CHECKS: HealthChecks = {
  track: () => undefined,
  untrack: () => undefined,
  probeNow: () => undefined,
  admits: () => Promise.resolve(false),
};

/**
 * A session that stays open as if the client had sent SESSION: a person at telnet types slower
 * than the close grace. Everything else is the session's own (its prototype), watch modes included.
 */
function keptOpen(session: LineSession): LineSession {
  return Object.create(session, {
    mode: { get: () => (session.mode === 'grace' ? 'persistent' : session.mode) },
  }) as LineSession;
}

function openRegistry(db: string, config: Config): Registry {
  try {
    // The data folder is git-ignored and absent from a fresh clone: create it, not the file's content.
    if (db !== ':memory:' && !existsSync(dirname(db))) mkdirSync(dirname(db), { recursive: true });
    return Registry.open({
      path: db,
      policy: {
        failuresToDown: config.failThreshold,
        successesToUp: config.passThreshold,
        downGraceMs: config.downGraceMs,
        pendingGraceMs: config.pendingGraceMs,
      },
    });
  } catch (error) {
    const code = error instanceof RegistryError ? error.code : 'OPEN_FAILED';
    const message = error instanceof Error ? error.message : String(error);
    throw new DiscoveryError('REGISTRY_REFUSED', `cannot use registry ${db}: ${message} (${code})`, { cause: error });
  }
}
