import { defineErrors } from '@conv/server';

/**
 * Every way the discovery process itself can fail, by stable code, and the exit code each
 * maps to. Wire failures (what clients see) are @conv/protocol's FAILURES, not these.
 */
export const DISCOVERY_ERRORS = {
  USAGE: { meaning: 'A flag or argument on the command line is wrong.', exit: 2 },
  REGISTRY_REFUSED: { meaning: 'The registry file cannot be used (locked, corrupt, newer, foreign or unopenable).', exit: 1 },
} as const;

export class DiscoveryError extends defineErrors('DiscoveryError', DISCOVERY_ERRORS) {}
