import { type Catalog, createCatalog } from '@conv/conversion';
import {
  type LineServer,
  type Logger,
  type RunningServer,
  formatBanner,
  conversionServerOptions,
  startLineServer,
  startOperatorPort,
} from '@conv/server';
import { type Config, DEFAULTS } from './config';
import { createConverterMetrics } from './metrics';
import { resolvePair } from './pair';
import { type Registration, startRegistration } from './registration-driver';
import { createSession } from './session';
import { formatAddress } from '@conv/protocol';

export interface RunningConverter extends RunningServer {
  readonly server: LineServer;
  readonly registration: Registration | undefined;
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
  const served = metrics ? metrics.observe(conversion) : conversion;
  const server = await startLineServer({
    ...conversionServerOptions(config),
    log,
    session: () => createSession(served),
  });
  const { port } = server.address;
  const listen = formatAddress(server.address);
  const discovery = config.discovery.map(formatAddress).join(',');
  const advertised = formatAddress({ host: config.advertise, port });
  log.info('start', {
    pair: `${a}:${b}`,
    listen,
    source: conversion.source,
    definition: conversion.definition,
    discovery: config.register ? discovery : 'off',
    advertise: config.register ? advertised : undefined,
  });

  const http =
    metrics && config.httpPort !== undefined
      ? await startOperatorPort({ host: config.host, port: config.httpPort, log, service: 'converter', facts: { pair: `${a}:${b}` }, metrics: metrics.registry }).catch(
          async (error: unknown) => {
            await server.close(0);
            throw error;
          },
        )
      : undefined;

  const registration = config.register
    ? startRegistration({
        discovery: config.discovery,
        units: config.pair,
        endpoint: { host: config.advertise, port },
        announceIntervalMs: config.announceIntervalMs,
        leaseMs: config.leaseMs === 0 ? undefined : config.leaseMs,
        heartbeatIntervalMs: config.heartbeatIntervalMs,
        reannounce: config.reannounce,
        token: config.token,
        log,
      })
    : undefined;

  const where = config.register ? `discovery ${discovery}${config.advertise !== server.address.host ? `, advertised as ${advertised}` : ''}` : 'not registering';
  // Started with no arguments (`pnpm --filter converter start`): say what was chosen, and how to choose.
  const chosen = a === DEFAULTS.pair[0] && b === DEFAULTS.pair[1] ? [`${a}:${b} is the default pair; "converter <port> <unit1> <unit2>" serves another`] : [];
  const banner = formatBanner({ what: `converter ${a} <-> ${b}`, address: server.address, listenHost: config.host, notes: [where, ...chosen] });

  let stopping: Promise<void> | undefined;
  return {
    server,
    registration,
    banner,
    resumed: () => registration?.resumed(),
    close(): Promise<void> {
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
