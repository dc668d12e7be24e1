import { type IncomingMessage, type Server, type ServerResponse, createServer } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import type { Registry as MetricsRegistry } from 'prom-client';
import { formatAddress } from '@conv/protocol';
import { ServerError, listenFailure } from './errors';
import type { Logger } from './log';

/** One GET route: what to send. Anything thrown becomes a 500 and a log line. */
export type HttpReply = { status?: number; type: string; body: string | Buffer };
export type HttpRoute = () => HttpReply | Promise<HttpReply>;

export type HttpServer = {
  readonly host: string;
  readonly port: number;
  /** `http://127.0.0.1:5580/`, IPv6 in brackets. */
  readonly url: string;
  close(): Promise<void>;
};

export type HttpServerOptions = {
  host: string;
  /** 0: any free port. */
  port: number;
  routes: Readonly<Record<string, HttpRoute>>;
  log: Logger;
  /** Bounds on what a client can hold; the defaults suit an operator's browser and a scraper. */
  limits?: Partial<HttpLimits>;
};

export type HttpLimits = {
  /** Open connections at most; past it new ones are closed at once. */
  maxConnections: number;
  /** A client must have sent its request headers within this long. */
  headersTimeoutMs: number;
  /** Largest request head, in bytes; past it: 431. */
  maxHeaderBytes: number;
};

const DEFAULT_LIMITS: HttpLimits = { maxConnections: 64, headersTimeoutMs: 10_000, maxHeaderBytes: 16 * 1024 };

/**
 * A few read-only GET routes on their own port, bounded like the protocol port: slow or silent
 * clients do not hold sockets open. Throws ServerError LISTEN_FAILED when it cannot listen.
 */
export async function startHttpServer(options: HttpServerOptions): Promise<HttpServer> {
  const { routes, log } = options;
  const sockets = new Set<Socket>();
  const limits = { ...DEFAULT_LIMITS, ...options.limits };
  const server: Server = createServer(
    // Node checks the headers deadline only this often: fine enough for the deadline to mean something.
    { maxHeaderSize: limits.maxHeaderBytes, connectionsCheckingInterval: Math.max(50, Math.min(1000, Math.floor(limits.headersTimeoutMs / 4))) },
    (request, response) => void serve(request, response),
  );
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });
  server.maxConnections = limits.maxConnections;
  server.headersTimeout = limits.headersTimeoutMs;
  server.requestTimeout = limits.headersTimeoutMs;
  server.keepAliveTimeout = 5_000;
  server.maxHeadersCount = 50;

  async function serve(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const path = (request.url ?? '/').split('?')[0] ?? '/';
    const route = routes[path];
    if (request.method !== 'GET' && request.method !== 'HEAD') {
      send(response, { status: 405, type: 'text/plain; charset=utf-8', body: 'GET only\n' }, request.method === 'HEAD');
      return;
    }
    if (route === undefined) {
      send(response, { status: 404, type: 'text/plain; charset=utf-8', body: `no such page; try ${Object.keys(routes).join(', ')}\n` }, request.method === 'HEAD');
      return;
    }
    try {
      send(response, await route(), request.method === 'HEAD');
    } catch (error) {
      log.error('http-route-failed', { path, error: error instanceof Error ? error.message : String(error) });
      send(response, { status: 500, type: 'text/plain; charset=utf-8', body: 'internal error\n' }, false);
    }
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', (error: NodeJS.ErrnoException) => {
      const where = formatAddress({ host: options.host, port: options.port });
      reject(new ServerError('LISTEN_FAILED', `cannot listen (--http-port): ${listenFailure(error, where, options.host)}`, { cause: error }));
    });
    server.listen({ host: options.host, port: options.port, exclusive: true }, () => resolve());
  });
  server.on('error', (error) => log.error('http-server-error', { error: error.message }));
  const { address: host, port } = server.address() as AddressInfo;
  let closing: Promise<void> | undefined;
  return {
    host,
    port,
    url: `http://${formatAddress({ host, port })}/`,
    close: () =>
      (closing ??= new Promise<void>((resolve) => {
        server.close(() => resolve());
        for (const socket of sockets) socket.destroy();
      })),
  };
}

function send(response: ServerResponse, reply: HttpReply, headOnly: boolean): void {
  const body = typeof reply.body === 'string' ? Buffer.from(reply.body) : reply.body;
  response.writeHead(reply.status ?? 200, {
    'content-type': reply.type,
    'content-length': body.length,
    'cache-control': 'no-store',
    'x-content-type-options': 'nosniff',
  });
  response.end(headOnly ? undefined : body);
}

/** A JSON reply: one object, one line. */
export function jsonReply(value: unknown): HttpReply {
  return { type: 'application/json; charset=utf-8', body: `${JSON.stringify(value)}\n` };
}

/** `/metrics`: the registry in the Prometheus text format, rendered at scrape time. */
export function metricsRoute(registry: MetricsRegistry): HttpRoute {
  return async () => ({ type: registry.contentType, body: await registry.metrics() });
}

/** `/healthz`: `{"status":"ok","service":...,...facts,"uptimeSeconds":...}`. */
export function healthzRoute(options: { service: string; facts?: Readonly<Record<string, string | number>>; startedAt?: number }): HttpRoute {
  const startedAt = options.startedAt ?? Date.now();
  return () => jsonReply({ status: 'ok', service: options.service, ...options.facts, uptimeSeconds: Math.round((Date.now() - startedAt) / 1000) });
}

export type OperatorPortOptions = Omit<HttpServerOptions, 'routes'> & {
  /** The app's own pages (a status page, say), listed before `/metrics` and `/healthz`. */
  routes?: Readonly<Record<string, HttpRoute>>;
  /** `/healthz`'s `service`. */
  service: string;
  /** Shown in `/healthz` between `service` and `uptimeSeconds`: the protocol address, the pair. */
  facts?: Readonly<Record<string, string | number>>;
  metrics: MetricsRegistry;
  /** When the process started serving, for `uptimeSeconds`; default now. */
  startedAt?: number;
};

/**
 * The operator's port (`--http-port`): the app's own routes, then `/metrics` and `/healthz`,
 * on the same host as the protocol port; logs its address (`http-listening url=...`). Nothing
 * here is on the request path of the protocol.
 */
export async function startOperatorPort(options: OperatorPortOptions): Promise<HttpServer> {
  const { service, facts, metrics, startedAt, ...server } = options;
  const http = await startHttpServer({
    ...server,
    routes: {
      ...options.routes,
      '/metrics': metricsRoute(metrics),
      '/healthz': healthzRoute({ service, ...(facts ? { facts } : {}), ...(startedAt === undefined ? {} : { startedAt }) }),
    },
  });
  options.log.info('http-listening', { url: http.url, metrics: `${http.url}metrics` });
  return http;
}
