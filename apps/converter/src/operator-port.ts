import { type HttpServer, type Logger, ObservabilityError, startOperatorPort as startHttp } from '@conv/observability';
import { ConverterError } from './errors';
import type { ConverterMetrics } from './metrics';

/** `--http-port`: `/metrics` (Prometheus text) and `/healthz`. Logs its address as `http-listening url=...`. */
export async function startOperatorPort(options: {
  host: string;
  port: number;
  /** `ft:in`, for /healthz. */
  pair: string;
  metrics: ConverterMetrics;
  log: Logger;
}): Promise<HttpServer> {
  const { host, port, pair, metrics, log } = options;
  try {
    return await startHttp({ host, port, log, service: 'converter', facts: { pair }, metrics: metrics.registry });
  } catch (error) {
    // The edge: the shell's LISTEN_FAILED becomes the converter's, one line and exit 1 as before.
    if (error instanceof ObservabilityError && error.code === 'LISTEN_FAILED') throw new ConverterError('LISTEN_FAILED', `converter: cannot listen (--http-port): ${error.detail}`, { cause: error });
    throw error;
  }
}
