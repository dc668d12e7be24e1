import { type DiscoveryReply, failure } from '@conv/protocol';
import type { Logger } from '@conv/server';

/** The answer to a change etcd has not confirmed in time: it may still take effect. */
export function notConfirmed(ms: number): DiscoveryReply {
  return {
    kind: 'failure',
    failure: failure('UNAVAILABLE', `The shared registry (etcd) did not confirm this change within ${ms} ms; it may still take effect: send it again to know.`),
  };
}

/**
 * `reply`, or after `ms` what `late` gives: replies on a connection go out in order, so a change
 * still waiting for etcd would hold every request behind it. The change itself goes on; its
 * outcome is then only logged.
 */
export function notConfirmedAfter<T extends { readonly outcome: string }>(reply: Promise<T>, ms: number, log: Logger, late: () => T): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const cut = new Promise<T>((resolve) => {
    timer = setTimeout(() => {
      void reply.then((settled) => log.info('unconfirmed-change-settled', { outcome: settled.outcome }));
      log.warn('change-not-confirmed', { waitedMs: ms, note: 'answered UNAVAILABLE so that the requests behind it are not held' });
      resolve(late());
    }, ms);
  });
  return Promise.race([reply, cut]).finally(() => clearTimeout(timer));
}
