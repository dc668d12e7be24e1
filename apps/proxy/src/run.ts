import { exposureNote } from '@conv/protocol';
import { type Config, formatAddress } from './config';
import { ConverterPool } from './converter-pool';
import { DiscoveryClient } from './discovery-client';
import { createLogger } from './log';
import { Router } from './router';
import { listen } from './server';

/** Starts the proxy with a validated config; resolves once it has shut down cleanly. */
export async function run(config: Config): Promise<void> {
  const log = createLogger({ level: config.logLevel });
  const discovery = new DiscoveryClient({
    address: config.discovery,
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
  let server;
  try {
    server = await listen({
      host: config.host,
      port: config.port,
      maxConnections: config.maxConnections,
      idleTimeoutMs: config.idleTimeoutMs,
      answer: (request) => router.answer(request),
      log,
    });
  } catch (error) {
    discovery.close();
    throw error;
  }
  const listening = formatAddress(server.address);
  process.stdout.write(`proxy listening on ${listening} (${exposureNote(config.host)}; discovery ${formatAddress(config.discovery)})\n`);
  log.info('proxy.start', {
    address: listening,
    discovery: formatAddress(config.discovery),
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
        log.info('proxy.stopped', { ...router.stats });
        resolve();
      });
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
  });
}
