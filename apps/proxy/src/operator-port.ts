import { type HttpServer, type Logger, ObservabilityError, startOperatorPort as startHttp } from '@conv/observability';
import { ProxyError } from './errors';
import type { ProxyMetrics } from './metrics';

/** `--http-port`: `/metrics` (Prometheus text) and `/healthz`. Logs its address as `http.listening url=...`. */
export async function startOperatorPort(options: { host: string; port: number; address: string; metrics: ProxyMetrics; log: Logger }): Promise<HttpServer> {
  const { host, port, address, metrics, log } = options;
  try {
    return await startHttp({
      host,
      port,
      log,
      service: 'proxy',
      facts: { address },
      metrics: metrics.registry,
      // The proxy names its events `area.what`.
      events: { listening: 'http.listening', routeFailed: 'http.error', serverFailed: 'http.server-error' },
    });
  } catch (error) {
    // The edge: the shell's LISTEN_FAILED becomes the proxy's, one line and exit 1 as before.
    if (error instanceof ObservabilityError && error.code === 'LISTEN_FAILED') throw new ProxyError('LISTEN_FAILED', `proxy: cannot listen (--http-port): ${error.detail}`, { cause: error });
    throw error;
  }
}
