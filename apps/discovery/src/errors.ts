/**
 * Every way the discovery process itself can fail, by stable code, and the exit code each
 * maps to. Wire failures (what clients see) are @conv/protocol's FAILURES, not these.
 */
export const DISCOVERY_ERROR_CODES = {
  USAGE: 'A flag or argument on the command line is wrong.',
  REGISTRY_REFUSED: 'The registry file cannot be used (locked, corrupt, newer, foreign or unopenable).',
  LISTEN_FAILED: 'The server could not listen on the requested address (port in use, address not local).',
} as const;

export type DiscoveryErrorCode = keyof typeof DISCOVERY_ERROR_CODES;

export class DiscoveryError extends Error {
  override readonly name = 'DiscoveryError';
  readonly code: DiscoveryErrorCode;

  constructor(code: DiscoveryErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
  }
}

/** 2 for "you typed something wrong", 1 for "it could not run". */
export function exitCodeOf(error: unknown): 1 | 2 {
  return error instanceof DiscoveryError && error.code === 'USAGE' ? 2 : 1;
}
