import { ProxyFiguresSchema, type WatcherStatus, formatAddress } from '@conv/protocol';
import { isLoopbackAddress, normalizePeerAddress } from '@conv/server';
import type { WatcherInfo } from './watchers';

/** A proxy's operator port answers on loopback in well under this; the page polls once a second. */
const FIGURES_TIMEOUT_MS = 500;
/** Panels read per status request: a flood of named watchers cannot make one page load fan out without bound. */
const MAX_READ = 32;

/**
 * Each watcher with its figures read from its operator port (`WATCH ... http=<port>`): only at
 * the connection's own peer address, and only when that is loopback, so a watcher can never
 * make discovery fetch from anywhere else. A read that fails or times out shows `unreachable`.
 */
export async function watchersWithFigures(watchers: readonly WatcherInfo[]): Promise<WatcherStatus[]> {
  return Promise.all(
    watchers.map(async (watcher, i): Promise<WatcherStatus> => {
      if (watcher.httpPort === undefined) return watcher;
      if (i >= MAX_READ) return { ...watcher, figures: { unreachable: `not read: more than ${MAX_READ} watchers` } };
      return { ...watcher, figures: await readFigures(watcher.peer, watcher.httpPort) };
    }),
  );
}

async function readFigures(peer: string, port: number): Promise<WatcherStatus['figures']> {
  const host = normalizePeerAddress(peer);
  if (!isLoopbackAddress(host)) return { unreachable: `not read: ${host} is not a loopback address` };
  const url = `http://${formatAddress({ host, port })}/status.json`;
  try {
    const response = await fetch(url, { signal: AbortSignal.timeout(FIGURES_TIMEOUT_MS), redirect: 'error' });
    if (!response.ok) return { unreachable: `${url} answered HTTP ${response.status}` };
    const parsed = ProxyFiguresSchema.safeParse(await response.json());
    return parsed.success ? parsed.data : { unreachable: `${url} is not a proxy's status` };
  } catch (error) {
    const cause = error instanceof Error && error.cause instanceof Error ? error.cause.message : error instanceof Error ? error.message : String(error);
    return { unreachable: `${url}: ${cause}` };
  }
}
