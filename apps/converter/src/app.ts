import { type Catalog, createCatalog } from '@conv/conversion';
import { exposureNote } from '@conv/protocol';
import { type Config, formatAddress } from './config';
import type { Logger } from '@conv/observability';
import { createConverterMetrics } from './metrics';
import { startOperatorPort } from './operator-port';
import { resolvePair } from './pair';
import { type Registration, startRegistration } from './registration-driver';
import { type ConversionServer, startConversionServer } from './server';

export interface RunningConverter {
  readonly server: ConversionServer;
  readonly registration: Registration | undefined;
  /** The one banner line: `converter ft <-> in listening on 127.0.0.1:5557 (discovery 127.0.0.1:5555)`. */
  readonly banner: string;
  /** REMOVE from discovery, stop accepting, finish requests in flight, close. */
  shutdown(): Promise<void>;
}

/** Starts a converter from a validated config: resolve the pair, listen, then register. */
export async function startConverter(config: Config, log: Logger, catalog: Catalog = createCatalog()): Promise<RunningConverter> {
  const [a, b] = config.pair;
  const { conversion, factorOverridesCatalog } = resolvePair(config, catalog);
  if (factorOverridesCatalog) {
    log.warn('factor-overrides-catalog', {
      pair: `${a}:${b}`,
      factor: config.factor,
      offset: config.offset,
      catalog: `1 ${a} = ${catalog.convert(1, a, b)} ${b}`,
    });
  }

  // Read at scrape time only, after `server` below exists.
  const metrics = config.httpPort === undefined ? undefined : createConverterMetrics({ connections: () => server.connections, paused: () => server.paused });
  const server = await startConversionServer({
    host: config.host,
    port: config.port,
    conversion: metrics ? metrics.observe(conversion) : conversion,
    maxConnections: config.maxConnections,
    idleTimeoutMs: config.idleTimeoutMs,
    log,
  });
  const { port } = server.address;
  const listen = formatAddress(server.address.host, port);
  const discovery = config.discovery.map((d) => formatAddress(d.host, d.port)).join(',');
  log.info('start', {
    pair: `${a}:${b}`,
    listen,
    source: conversion.source,
    definition: conversion.definition,
    discovery: config.register ? discovery : 'off',
    advertise: config.register ? formatAddress(config.advertise, port) : undefined,
  });

  const http =
    metrics && config.httpPort !== undefined
      ? await startOperatorPort({ host: config.host, port: config.httpPort, pair: `${a}:${b}`, metrics, log }).catch(async (error: unknown) => {
          await server.close(0);
          throw error;
        })
      : undefined;

  const registration = config.register
    ? startRegistration({
        discovery: config.discovery,
        units: config.pair,
        endpoint: { host: config.advertise, port },
        announceIntervalMs: config.announceIntervalMs,
        token: config.token,
        log,
      })
    : undefined;

  const advertised = config.register && config.advertise !== server.address.host ? `, advertised as ${formatAddress(config.advertise, port)}` : '';
  const banner =
    `converter ${a} <-> ${b} listening on ${listen} ` +
    `(${exposureNote(config.host)}; ${config.register ? `discovery ${discovery}${advertised}` : 'not registering'})`;

  let stopping: Promise<void> | undefined;
  return {
    server,
    registration,
    banner,
    shutdown(): Promise<void> {
      stopping ??= (async () => {
        const started = Date.now();
        log.info('shutdown', { connections: server.connections });
        // Leave discovery first, so proxies stop sending us work while we finish what we have.
        await registration?.stop(config.shutdownTimeoutMs);
        await server.close(Math.max(0, config.shutdownTimeoutMs - (Date.now() - started)));
        await http?.close();
        log.info('stopped');
      })();
      return stopping;
    },
  };
}
