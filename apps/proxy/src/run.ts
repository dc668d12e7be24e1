import { exposureNote } from '@conv/protocol';
import { type Config, formatAddress } from './config';
import { ConverterPool } from './converter-pool';
import { DiscoveryClient } from './discovery-client';
import { createLogger } from '@conv/observability';
import { createProxyMetrics } from './metrics';
import { startOperatorPort } from './operator-port';
import { Router } from './router';
import { type ProxyServer, listen } from './server';
import type { Answer } from './session';

/** Starts the proxy with a validated config; resolves once it has shut down cleanly. */
export async function run(config: Config): Promise<void> {
  const log = createLogger({ name: 'proxy', level: config.logLevel });
  const discovery = new DiscoveryClient({
    addresses: config.discovery,
    timeoutMs: config.hopTimeoutMs,
    staleTtlMs: config.staleTtlMs,
    log,
  });
  const converters = new ConverterPool({ hopTimeoutMs: config.hopTimeoutMs, log });
  const router = new Router({
    discovery,
    converters,
    pathTtlMs: config.pathTtlMs,
    staleTtlMs: config.staleTtlMs,
    failedTtlMs: config.failedTtlMs,
    log,
    token: config.token,
  });
  discovery.start();
  // Read at scrape time only, after `server` below exists.
  const metrics =
    config.httpPort === undefined
      ? undefined
      : createProxyMetrics({ stats: () => router.stats, connections: () => server?.connections ?? 0, cachedPaths: () => router.cache.size, discoveryUp: () => discovery.isUp });
  const answer: Answer = (request, options) => router.answer(request, options);
  let server: ProxyServer | undefined;
  try {
    server = await listen({
      host: config.host,
      port: config.port,
      maxConnections: config.maxConnections,
      idleTimeoutMs: config.idleTimeoutMs,
      answer: metrics ? metrics.observe(answer) : answer,
      log,
    });
  } catch (error) {
    discovery.close();
    throw error;
  }
  const listening = formatAddress(server.address);
  const running = server;
  const http =
    metrics && config.httpPort !== undefined
      ? await startOperatorPort({ host: config.host, port: config.httpPort, address: listening, metrics, log }).catch(async (error: unknown) => {
          await running.close(0);
          converters.close();
          discovery.close();
          throw error;
        })
      : undefined;
  process.stdout.write(`proxy listening on ${listening} (${exposureNote(config.host)}; discovery ${config.discovery.map(formatAddress).join(',')})\n`);
  log.info('proxy.start', {
    address: listening,
    discovery: config.discovery.map(formatAddress).join(','),
    hopTimeoutMs: config.hopTimeoutMs,
    pathTtlMs: config.pathTtlMs,
    staleTtlMs: config.staleTtlMs,
    maxConnections: config.maxConnections,
  });

  await new Promise<void>((resolve) => {
    let stopping = false;
    const onSignal = (signal: NodeJS.Signals) => {
      if (stopping) {
        log.warn('proxy.forced-exit', { signal });
        process.exit(1);
      }
      stopping = true;
      log.info('proxy.stopping', { signal, connections: server.connections });
      // In-flight requests get at most a few hop timeouts to finish.
      void server.close(config.hopTimeoutMs * 3).then(() => {
        converters.close();
        discovery.close();
        void http?.close();
        log.info('proxy.stopped', { ...router.stats });
        resolve();
      });
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
  });
}
