/**
 * Every failure the registry reports, by stable code. Callers match on `code`, never on the
 * message. A code, once published, keeps its meaning; a retired code is never reused.
 */
export const REGISTRY_ERROR_CODES = {
  INVALID_PAIR: 'A unit pair needs two different, non-empty units without whitespace.',
  INVALID_ENDPOINT: 'An endpoint needs a non-empty host without whitespace and an integer port 1..65535.',
  INVALID_OPTIONS: 'Registry.open was given options it does not understand or cannot use.',
  OPEN_FAILED: 'The registry file could not be opened or created (missing directory, permissions).',
  LOCKED: 'The registry file is held by another live registry (another process or connection).',
  CORRUPT: 'The file is not a database, fails its integrity check, or holds rows the registry never writes.',
  FOREIGN_FILE: 'The file is an SQLite database that does not belong to a registry.',
  NEWER_VERSION: 'The registry file was written by a newer schema version than this code knows.',
  STORE_FAILED: 'A write to the store failed; the change was not made, in memory or on disk.',
  UNAVAILABLE: 'The shared store could not be reached or did not confirm a write in time; nothing was changed in memory.',
  CLOSED: 'The registry (or store) was used after close().',
} as const;

export type RegistryErrorCode = keyof typeof REGISTRY_ERROR_CODES;

export class RegistryError extends Error {
  override readonly name = 'RegistryError';
  readonly code: RegistryErrorCode;

  constructor(code: RegistryErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
  }
}
