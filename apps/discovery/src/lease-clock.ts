import type { EndpointRegistry } from '@conv/registry';
import type { Logger } from '@conv/server';
import { logTransition } from './health-monitor';

/**
 * How often the clock asks the registry for lapsed leases. A lapse is seen at most this late;
 * the registry answers a tick with no lease due without looking at any entry.
 */
export const LEASE_TICK_MS = 50;

/**
 * The timer of leases: the registry decides (pure, given the time), this only asks it now and
 * then, and logs each lapse. A lapse marks the endpoint down, which the registry's change
 * feed pushes to every watcher; it is swept after the down grace unless an ADD renews it.
 */
export function startLeaseClock(registry: EndpointRegistry, log: Logger, options: { tickMs?: number; onLapse?: (count: number) => void } = {}): { stop(): void } {
  const timer = setInterval(() => {
    if (registry.closed) return;
    let lapsed;
    try {
      ({ lapsed } = registry.expireLeases());
    } catch (error) {
      log.error('lease-check-failed', { error: error instanceof Error ? error.message : String(error) });
      return;
    }
    if (lapsed.length === 0) return;
    for (const transition of lapsed) logTransition(log, transition, 'lease lapsed: no ADD renewed it in time');
    options.onLapse?.(lapsed.length);
  }, options.tickMs ?? LEASE_TICK_MS);
  timer.unref();
  return { stop: () => clearInterval(timer) };
}
