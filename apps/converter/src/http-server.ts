import { type IncomingMessage, type Server, type ServerResponse, createServer } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { ConverterError } from './errors';
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

/**
 * The operator's port: a few read-only GET routes (`/metrics`, `/healthz`, the status page),
 * on the same host as the protocol port. Nothing here is on the request path of the protocol.
 */
export async function startHttpServer(options: { host: string; port: number; routes: Readonly<Record<string, HttpRoute>>; log: Logger }): Promise<HttpServer> {
  const { routes, log } = options;
  const sockets = new Set<Socket>();
  const server: Server = createServer((request, response) => void serve(request, response));
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });
  // Bounded like the protocol port: slow or silent clients do not hold sockets open.
  server.headersTimeout = 10_000;
  server.requestTimeout = 10_000;
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
      log.error('http-error', { path, error: error instanceof Error ? error.message : String(error) });
      send(response, { status: 500, type: 'text/plain; charset=utf-8', body: 'internal error\n' }, false);
    }
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', (error: NodeJS.ErrnoException) => {
      const where = `${options.host.includes(':') ? `[${options.host}]` : options.host}:${options.port}`;
      const why = error.code === 'EADDRINUSE' ? `${where} is already in use` : `${where}: ${error.message}`;
      reject(new ConverterError('LISTEN_FAILED', `converter: cannot listen (--http-port): ${why}`, { cause: error }));
    });
    server.listen({ host: options.host, port: options.port, exclusive: true }, () => resolve());
  });
  server.on('error', (error) => log.error('http-server-error', { error: error.message }));
  const { address: host, port } = server.address() as AddressInfo;
  let closing: Promise<void> | undefined;
  return {
    host,
    port,
    url: `http://${host.includes(':') ? `[${host}]` : host}:${port}/`,
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
