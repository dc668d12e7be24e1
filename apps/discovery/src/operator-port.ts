import type { Registry } from '@conv/registry';
import { type HttpServer, startHttpServer } from './http-server';
import type { Logger } from './log';
import type { DiscoveryMetrics } from './metrics';
import { STATUS_PAGE_HTML } from './status-page';
import { statusReport } from './status';

/**
 * `--http-port`: `/metrics` (Prometheus text), `/healthz`, the status page at `/` and the
 * data it draws at `/status.json`. Logs its address as `http-listening url=...`.
 */
export async function startOperatorPort(options: {
  host: string;
  port: number;
  /** The protocol address, shown on the page. */
  address: string;
  registry: Registry;
  metrics: DiscoveryMetrics;
  log: Logger;
}): Promise<HttpServer> {
  const { registry, metrics, address } = options;
  const startedAt = Date.now();
  const json = (value: unknown) => ({ type: 'application/json; charset=utf-8', body: `${JSON.stringify(value)}\n` });
  const http = await startHttpServer({
    host: options.host,
    port: options.port,
    log: options.log,
    routes: {
      '/': () => ({ type: 'text/html; charset=utf-8', body: STATUS_PAGE_HTML }),
      '/status.json': () => json(statusReport(registry, { address, startedAt, now: Date.now() })),
      '/metrics': async () => ({ type: metrics.registry.contentType, body: await metrics.registry.metrics() }),
      '/healthz': () => json({ status: 'ok', service: 'discovery', address, uptimeSeconds: Math.round((Date.now() - startedAt) / 1000) }),
    },
  });
  options.log.info('http-listening', { url: http.url, metrics: `${http.url}metrics` });
  return http;
}
