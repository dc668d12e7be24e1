import {
  type HttpServer,
  type LineServer,
  type Logger,
  type RunningServer,
  DiscoverySession,
  formatBanner,
  conversionServerOptions,
  startLineServer,
  startOperatorPort,
  jsonReply,
} from '@conv/server';
import type { Config } from './config';
import { ConverterPool } from './converter-pool';
import { createProxyMetrics } from './metrics';
import { PoolView } from './pool-view';
import { Router } from './router';
import { type Answer, createProxySession } from './session';
import { type ProxyFigures, formatAddress } from '@conv/protocol';

/** Starts the proxy from a validated config: discovery session, converter pool, router, TCP. */
export async function startProxy(config: Config, log: Logger): Promise<RunningServer> {
  // The discovery session feeds the router's view; the router asks discovery.
  const view = new PoolView();
  const discovery = new DiscoverySession({
    addresses: config.discovery,
    timeoutMs: config.hopTimeoutMs,
    log,
    whileDown: `serving from the last watched view, or cached paths up to ${config.staleTtlMs}ms old; reconnecting`,
    watch: {
      name: `proxy-${process.pid}`,
      // The operator port as bound (`--http-port 0` picks one): discovery reads this proxy's figures there.
      get httpPort() {
        return http?.port;
      },
      snapshot: (entries) => view.replace(entries),
      change: (change) => {
        view.apply(change);
        if (log.level === 'debug') log.debug('watch-change', { kind: change.kind, pair: `${change.units[0]}/${change.units[1]}`, endpoint: formatAddress(change.endpoint), health: change.health, seq: change.seq });
      },
      unsupported: () => view.clear(),
      unavailable: () => view.unavailable(),
    },
  });
  const converters = new ConverterPool({ hopTimeoutMs: config.hopTimeoutMs, pipelineDepth: config.pipelineDepth, log });
  const router = new Router({
    discovery,
    converters,
    pathTtlMs: config.pathTtlMs,
    staleTtlMs: config.staleTtlMs,
    ejection: { baseMs: config.ejectionTimeMs, maxMs: config.maxEjectionTimeMs },
    log,
    view,
  });
  // Read at scrape time only, after `server` below exists.
  const metrics =
    config.httpPort === undefined
      ? undefined
      : createProxyMetrics({
          stats: () => router.stats,
          connections: (): number => server.connections,
          cachedPaths: () => router.cache.size,
          discoveryUp: () => discovery.isUp,
          ejections: () => ({ total: router.outliers.ejections, ejected: router.outliers.ejectedCount(Date.now()) }),
        });
  const plain: Answer = (request, options) => router.reply(request, options);
  const answer: Answer = metrics ? metrics.observe(plain) : plain;
  const server: LineServer = await startLineServer({
    ...conversionServerOptions(config),
    log,
    session: () => createProxySession(answer),
  }).catch((error: unknown) => {
    discovery.close();
    throw error;
  });
  const address = formatAddress(server.address);
  const http: HttpServer | undefined =
    metrics && config.httpPort !== undefined
      ? await startOperatorPort({
          host: config.host,
          port: config.httpPort,
          log,
          service: 'proxy',
          facts: { address },
          metrics: metrics.registry,
          // What discovery's status page shows in this proxy's panel; also which converters are ejected now.
          routes: { '/status.json': () => jsonReply({ service: 'proxy', address, ...metrics.figures(), outliers: router.outliers.records(Date.now()) } satisfies ProxyFigures) },
        }).catch(async (error: unknown) => {
          await server.close(0);
          converters.close();
          discovery.close();
          throw error;
        })
      : undefined;
  // Started once the operator port is bound, so the first WATCH names it.
  discovery.start();
  const discoveryList = config.discovery.map(formatAddress).join(',');
  log.info('start', {
    address,
    discovery: discoveryList,
    hopTimeoutMs: config.hopTimeoutMs,
    pathTtlMs: config.pathTtlMs,
    staleTtlMs: config.staleTtlMs,
    maxConnections: config.maxConnections,
  });

  let closing: Promise<void> | undefined;
  return {
    banner: formatBanner({ what: 'proxy', address: server.address, listenHost: config.host, notes: [`discovery ${discoveryList}`] }),
    close: () =>
      (closing ??= (async () => {
        log.info('shutdown', { connections: server.connections });
        await server.close(config.shutdownTimeoutMs);
        converters.close();
        discovery.close();
        await http?.close();
        log.info('stopped', { ...router.stats });
      })()),
  };
}
