export { startConverter } from './app';
export type { RunningConverter } from './app';
export { parseCommandLine } from './cli';
export type { Invocation } from './cli';
export { CONFIG_DEFAULTS, FlagsSchema, formatAddress, parseDuration, validateConfig } from './config';
export type { Config, Flags } from './config';
export { requestDiscovery } from './discovery-client';
export { CONVERTER_ERROR_CODES, ConverterError, exitCodeFor } from './errors';
export type { ConverterErrorCode } from './errors';
export { LogLevelSchema } from './log';
export { affineConversion, resolvePair } from './pair';
export type { PairConversion, PairSpec, ResolvedPair, UnitPair } from './pair';
export {
  INITIAL_REGISTRATION,
  backoffDelay,
  defaultBackoff,
  isEntryExists,
  stepRegistration,
} from './registration';
export type {
  BackoffPolicy,
  RegistrationCommand,
  RegistrationContext,
  RegistrationEvent,
  RegistrationPhase,
  RegistrationState,
} from './registration';
export { startRegistration } from './registration-driver';
export type { Registration, RegistrationOptions } from './registration-driver';
export { startConversionServer } from './server';
export type { ConversionServer, ConversionServerOptions } from './server';
export { REFUSALS, createSession } from './session';
export type { ConversionSession, SessionStep } from './session';
