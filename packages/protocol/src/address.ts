import { type Result, fail, ok } from './failures';
import { type Endpoint, parseHost, parsePort } from './tokens';

/**
 * An endpoint as people read it, and as maps key it: `127.0.0.1:5555`, `[::1]:5555` (IPv6 in
 * brackets, so the port stays readable). One spelling everywhere: banners, logs, status pages.
 */
export function formatAddress(address: { readonly host: string; readonly port: number }): string {
  return address.host.includes(':') ? `[${address.host}]:${address.port}` : `${address.host}:${address.port}`;
}

/** Reads `host:port`, IPv6 as `[::1]:5555`; the host comes back in canonical form. */
export function parseAddress(text: string): Result<Endpoint> {
  const trimmed = text.trim();
  const match = /^\[([^\]]+)\]:([^:]*)$/.exec(trimmed) ?? /^([^:[\]]+):([^:]*)$/.exec(trimmed);
  if (!match) return fail('BAD_HOST', `${JSON.stringify(trimmed)} is not of the form host:port, such as 127.0.0.1:5555 or [::1]:5555.`);
  const host = parseHost(match[1] ?? '');
  if (!host.ok) return host;
  const port = parsePort(match[2] ?? '');
  if (!port.ok) return port;
  return ok({ host: host.value, port: port.value });
}

/** Reads `host:port[,host:port...]` (discovery replicas); the first malformed item fails it all. */
export function parseAddressList(text: string): Result<Endpoint[]> {
  const list: Endpoint[] = [];
  for (const item of text.split(',')) {
    const address = parseAddress(item);
    if (!address.ok) return address;
    list.push(address.value);
  }
  return ok(list);
}
