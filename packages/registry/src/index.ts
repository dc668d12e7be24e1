export { endpointOf, isUnitPair, unitPair } from './endpoint';
export type { Endpoint, UnitPair } from './endpoint';
export { REGISTRY_ERROR_CODES, RegistryError } from './errors';
export type { RegistryErrorCode } from './errors';
export { DEFAULT_HEALTH_POLICY, validateHealthPolicy } from './health';
export type { Health, HealthPolicy, ProbeVerdict } from './health';
export type { AddOptions, AddOutcome, EndpointRegistry, PoolHandle, RemoveOutcome, Settled, WatchStart } from './endpoint-registry';
export { ChangeFeed, DEFAULT_CHANGE_HISTORY } from './change-feed';
export type { ChangeListener, RegistryChange } from './change-feed';
export type { Registration, RegistryCounts, Transition } from './pools';
export { Registry } from './registry';
export type { RegistryOptions } from './registry';
export { SharedRegistry } from './shared-registry';
export type { RemoteEffect, SharedRegistryOptions } from './shared-registry';
export { MemorySharedRegistryStore } from './shared-store';
export type {
  SharedChange,
  SharedDeleteResult,
  SharedPutResult,
  SharedRecord,
  SharedRegistration,
  SharedRegistryStore,
  SharedSnapshot,
  SharedSubscription,
  SharedWatcher,
} from './shared-store';
export { REGISTRY_APPLICATION_ID, REGISTRY_SCHEMA_VERSION, SqliteRegistryStore } from './sqlite-store';
export { MemoryRegistryStore } from './store';
export type { RegistryStore, ServedCount, StoredRegistration } from './store';
