import { type HttpServer, startHttpServer } from './http-server';
import type { Logger } from './log';
import type { ProxyMetrics } from './metrics';

/** `--http-port`: `/metrics` (Prometheus text) and `/healthz`. Logs its address as `http.listening url=...`. */
export async function startOperatorPort(options: { host: string; port: number; address: string; metrics: ProxyMetrics; log: Logger }): Promise<HttpServer> {
  const { metrics, address } = options;
  const startedAt = Date.now();
  const http = await startHttpServer({
    host: options.host,
    port: options.port,
    log: options.log,
    routes: {
      '/metrics': async () => ({ type: metrics.registry.contentType, body: await metrics.registry.metrics() }),
      '/healthz': () => ({
        type: 'application/json; charset=utf-8',
        body: `${JSON.stringify({ status: 'ok', service: 'proxy', address, uptimeSeconds: Math.round((Date.now() - startedAt) / 1000) })}\n`,
      }),
    },
  });
  options.log.info('http.listening', { url: http.url, metrics: `${http.url}metrics` });
  return http;
}
