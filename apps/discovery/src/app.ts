import { existsSync, mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { exposureNote } from '@conv/protocol';
import { Registry, RegistryError, endpointKey } from '@conv/registry';
import type { Config } from './config';
import { DiscoveryError } from './errors';
import { HealthMonitor } from './health-monitor';
import type { Logger } from '@conv/observability';
import { createConversionProber, type Prober } from './probe';
import { createDiscoveryMetrics, withMetrics } from './metrics';
import { startOperatorPort } from './operator-port';
import { LineServer } from './server';
import { DiscoveryService, type Peer } from './session';

export type RunningDiscovery = {
  readonly host: string;
  readonly port: number;
  /** The registry file as opened (absolute), or ':memory:'. */
  readonly db: string;
  readonly restored: number;
  readonly banner: string;
  /** Stop accepting, answer what is in flight, stop probes, close the registry. Idempotent. */
  close(): Promise<void>;
};

/**
 * Wires a discovery server from a validated config: registry, health checks, protocol, TCP.
 * Throws DiscoveryError (REGISTRY_REFUSED, LISTEN_FAILED) without leaving anything open.
 */
export async function startDiscovery(config: Config, log: Logger, options: { probe?: Prober } = {}): Promise<RunningDiscovery> {
  // --store etcd://...: a registry shared with other replicas; otherwise the SQLite file.
  // Loaded only then: the etcd client (gRPC) costs more start-up CPU than all the rest of discovery.
  const shared = config.store === undefined ? undefined : await (await import('./shared-registry')).openSharedRegistry(config, log);
  const db = shared !== undefined ? `${shared.description} (shared, lease ${config.leaseTtl / 1000}s)` : config.db === ':memory:' ? ':memory:' : resolve(config.db);
  const registry = shared?.registry ?? openRegistry(db, config);
  let monitor: HealthMonitor | undefined;
  try {
    monitor = new HealthMonitor({
      registry,
      probe: options.probe ?? createConversionProber({ timeoutMs: config.checkTimeout }),
      intervalMs: config.checkInterval,
      concurrency: config.checkConcurrency,
      maxProbeRate: config.maxProbeRate,
      sweepEveryMs: Math.min(1000, Math.max(50, Math.floor(Math.min(config.downGrace, config.pendingGrace) / 4))),
      log,
    });
    const service = new DiscoveryService({ registry, checks: monitor, log, trustRegistrations: config.trustRegistrations, token: config.token });
    const restored = registry.registrations();
    for (const registration of restored) monitor.track(registration.endpoint, registration.pair);
    shared?.follow(monitor);
    const probes = monitor;
    // Read at scrape time only, after `server` below exists.
    const metrics = config.httpPort === undefined ? undefined : createDiscoveryMetrics({ registry, probes: () => probes.stats, connections: () => server.connections });

    const server = await LineServer.listen({
      host: config.host,
      port: config.port,
      maxConnections: config.maxConnections,
      idleTimeoutMs: config.idleTimeout,
      maxLineBytes: config.maxLineBytes,
      greeting: config.greeting,
      log,
      handle: withMetrics(metrics, (line: string, peer: Peer) => service.handle(line, peer)),
    });
    // Restored endpoints may have died while we were down: each is pending until its probe says up.
    for (const registration of restored) monitor.probeNow(registration.endpoint, { confirm: true });
    monitor.start();

    const { host, port } = server.address;
    const shown = host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
    const count = `${restored.length} registration${restored.length === 1 ? '' : 's'} restored`;
    const banner = `discovery listening on ${shown} (${exposureNote(config.host)}; registry ${db}, ${count})`;
    log.info('start', { address: shown, db, restored: restored.length, checkInterval: config.checkInterval });
    for (const registration of restored) {
      log.debug('restored', { endpoint: endpointKey(registration.endpoint), pair: `${registration.pair[0]}/${registration.pair[1]}` });
    }

    const http =
      metrics && config.httpPort !== undefined
        ? await startOperatorPort({ host: config.host, port: config.httpPort, address: shown, registry, metrics, log }).catch(async (error: unknown) => {
            await server.close();
            throw error;
          })
        : undefined;

    const checks = monitor;
    let closing: Promise<void> | undefined;
    return {
      host,
      port,
      db,
      restored: restored.length,
      banner,
      close: () =>
        (closing ??= (async () => {
          await http?.close();
          await server.close();
          await checks.stop();
          const kept = registry.counts().endpoints;
          registry.close();
          await shared?.close();
          log.info('shutdown', { registrations: kept });
        })()),
    };
  } catch (error) {
    await monitor?.stop();
    registry.close();
    await shared?.close();
    throw error;
  }
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
        downGraceMs: config.downGrace,
        pendingGraceMs: config.pendingGrace,
      },
    });
  } catch (error) {
    const code = error instanceof RegistryError ? error.code : 'OPEN_FAILED';
    const message = error instanceof Error ? error.message : String(error);
    throw new DiscoveryError('REGISTRY_REFUSED', `cannot use registry ${db}: ${message} (${code})`, { cause: error });
  }
}
