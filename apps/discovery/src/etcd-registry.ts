import { formatAddress } from '@conv/protocol';
import { RegistryError, type RemoteEffect, SharedRegistry } from '@conv/registry';
import type { Config } from './config';
import { DiscoveryError } from './errors';
import { EtcdRegistryStore } from './etcd-store';
import type { Logger } from '@conv/server';
import type { HealthChecks } from './session';

const CATCH_UP_MIN_MS = 250;
const CATCH_UP_MAX_MS = 2_000;

export type EtcdRegistry = {
  readonly registry: SharedRegistry;
  /** `etcd://127.0.0.1:2379`, for the banner and logs. */
  readonly description: string;
  /** From now on, endpoints that other replicas add or remove (or whose lease ends) are probed or dropped here. */
  follow(checks: HealthChecks): void;
  close(): Promise<void>;
};

/**
 * `--store etcd://...`: the registry shared through etcd. Loads it, follows its changes, and
 * when etcd goes away keeps serving from memory and catches up (reload and watch again) once
 * it is back, logging both.
 */
export async function openEtcdRegistry(config: Config, log: Logger): Promise<EtcdRegistry> {
  const endpoints = config.store?.endpoints ?? [];
  const store = new EtcdRegistryStore({ endpoints, timeoutMs: config.etcdTimeoutMs });
  let checks: HealthChecks | undefined;
  let closed = false;
  let catchingUp = false;
  /** The watch a catch-up has just opened broke before the catch-up was done: catch up again. */
  let brokenAgain = false;
  let retry: NodeJS.Timeout | undefined;

  const apply = (effect: RemoteEffect, how: 'watch' | 'catch-up'): void => {
    const endpoint = formatAddress(effect.endpoint);
    const pair = `${effect.pair[0]}/${effect.pair[1]}`;
    if (effect.kind === 'added') {
      log.info('remote-added', { endpoint, pair, via: how });
      checks?.track(effect.endpoint, effect.pair);
      checks?.probeNow(effect.endpoint, { confirm: true });
    } else {
      log.info('remote-removed', { endpoint, pair, was: effect.from, via: how });
      checks?.untrack(effect.endpoint);
    }
  };

  const broken = (error: Error): void => {
    if (closed) return;
    if (catchingUp) {
      brokenAgain = true;
      return;
    }
    catchingUp = true;
    log.warn('store-unreachable', {
      store: store.description,
      error: error.message,
      note: 'lookups keep being answered from memory; ADD and REMOVE answer UNAVAILABLE until it is back',
    });
    catchUp(CATCH_UP_MIN_MS);
  };

  const catchUp = (delayMs: number): void => {
    retry = setTimeout(() => {
      if (closed) return;
      brokenAgain = false;
      registry.resync().then(
        ({ revision, effects }) => {
          catchingUp = false;
          for (const effect of effects) apply(effect, 'catch-up');
          log.info('store-back', { store: store.description, revision, changes: effects.length, note: 'ADD and REMOVE work again' });
          if (brokenAgain) broken(new Error('the watch broke again while catching up'));
        },
        (error: unknown) => {
          if (closed) return;
          log.debug('store-still-unreachable', { store: store.description, error: error instanceof Error ? error.message : String(error) });
          catchUp(Math.min(delayMs * 2, CATCH_UP_MAX_MS));
        },
      );
    }, delayMs);
    retry.unref();
  };

  let registry: SharedRegistry;
  try {
    registry = await SharedRegistry.open({
      store,
      policy: {
        failuresToDown: config.failThreshold,
        successesToUp: config.passThreshold,
        downGraceMs: config.downGraceMs,
        pendingGraceMs: config.pendingGraceMs,
      },
      onRemote: (effect) => apply(effect, 'watch'),
      onBroken: broken,
    });
  } catch (error) {
    await store.close();
    const code = error instanceof RegistryError ? error.code : 'UNAVAILABLE';
    const message = error instanceof Error ? error.message : String(error);
    throw new DiscoveryError('REGISTRY_REFUSED', `cannot use registry ${store.description}: ${message} (${code})`, { cause: error });
  }

  return {
    registry,
    description: store.description,
    follow: (health) => {
      checks = health;
    },
    close: async () => {
      closed = true;
      clearTimeout(retry);
      registry.close();
      await store.close();
    },
  };
}
