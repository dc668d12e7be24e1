import { type HttpServer, type Logger, ObservabilityError, jsonReply, startOperatorPort as startHttp } from '@conv/observability';
import type { Registry } from '@conv/registry';
import { DiscoveryError } from './errors';
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
  /** The registry as the banner names it (file, or shared store), shown on the page. */
  store: string;
  shared: boolean;
  registry: Registry;
  metrics: DiscoveryMetrics;
  log: Logger;
}): Promise<HttpServer> {
  const { registry, metrics, address, store, shared } = options;
  const startedAt = Date.now();
  try {
    return await startHttp({
      host: options.host,
      port: options.port,
      log: options.log,
      service: 'discovery',
      facts: { address },
      metrics: metrics.registry,
      startedAt,
      routes: {
        '/': () => ({ type: 'text/html; charset=utf-8', body: STATUS_PAGE_HTML }),
        '/status.json': () => jsonReply(statusReport(registry, { address, registry: store, shared, pid: process.pid, startedAt, now: Date.now() })),
      },
    });
  } catch (error) {
    // The edge: the shell's LISTEN_FAILED becomes discovery's, one line and exit 1 as before.
    if (error instanceof ObservabilityError && error.code === 'LISTEN_FAILED') throw new DiscoveryError('LISTEN_FAILED', `cannot listen (--http-port): ${error.detail}`, { cause: error });
    throw error;
  }
}
