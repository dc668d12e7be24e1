import { canonicalHost, formatAddress } from '@conv/protocol';

/**
 * The one line every conv server prints on stdout once it is ready, signals included:
 * `<what> listening on <address> (<notes>)`. Launchers (`conv up`, chaos) and tests wait for
 * it and read the bound address from it with `parseBanner`, so its shape is defined once, here.
 */
export function formatBanner(options: { what: string; address: { host: string; port: number }; listenHost: string; notes?: readonly string[] }): string {
  const notes = [exposureNote(options.listenHost), ...(options.notes ?? [])];
  return `${options.what} listening on ${formatAddress(options.address)} (${notes.join('; ')})`;
}

const BANNER = /listening on (?:\[([^\]\s]+)\]|([^\s:[\]]+)):(\d+)/;

/** The address in the first banner found in `output`, or undefined when none has been printed yet. */
export function parseBanner(output: string): { host: string; port: number } | undefined {
  const match = BANNER.exec(output);
  if (!match) return undefined;
  return { host: match[1] ?? match[2] ?? '', port: Number(match[3]) };
}

/** Whether a listen address is reachable only from this machine (127.0.0.0/8, ::1, localhost). */
export function isLoopbackHost(host: string): boolean {
  const canonical = canonicalHost(host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host);
  return canonical === 'localhost' || canonical === '::1' || (canonical?.startsWith('127.') ?? false);
}

/** What a banner says about who can reach a server listening on `host`. */
export function exposureNote(host: string): string {
  return isLoopbackHost(host) ? 'loopback only; --host to expose' : `exposed on ${host}`;
}
