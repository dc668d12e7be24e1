import { type Endpoint, type Result, fail, ok, parseHost, parsePort } from '@conv/protocol';

/** Reads `host:port` (IPv6 as `[::1]:5556`). */
export function parseAddress(text: string): Result<Endpoint> {
  const match = /^\[([^\]]+)\]:([^:]+)$/.exec(text) ?? /^([^:]+):([^:]+)$/.exec(text);
  if (!match) return fail('BAD_HOST', `${JSON.stringify(text)} is not of the form host:port, e.g. 127.0.0.1:5556.`);
  const host = parseHost(match[1] ?? '');
  if (!host.ok) return host;
  const port = parsePort(match[2] ?? '');
  if (!port.ok) return port;
  return ok({ host: host.value, port: port.value });
}

export function formatAddress({ host, port }: Endpoint): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}
