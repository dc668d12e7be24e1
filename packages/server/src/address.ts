import { type Endpoint, type Result, fail, ok, parseHost, parsePort } from '@conv/protocol';

/** An address as people read it in banners and logs: `127.0.0.1:5555`, `[::1]:5555`. */
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

/** The socket's remote address as servers compare it: IPv4-mapped IPv6 (`::ffff:1.2.3.4`) written as IPv4. */
export function normalizePeerAddress(address: string | undefined): string {
  if (address === undefined) return '';
  const lower = address.toLowerCase();
  return lower.startsWith('::ffff:') && lower.includes('.') ? lower.slice('::ffff:'.length) : lower;
}

export function isLoopbackAddress(address: string): boolean {
  return address === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(address);
}
