/**
 * Every way the operational shell can fail, by stable code. The apps map these to their own
 * errors and exit codes at their edge; nothing here decides how a process ends.
 */
export const OBSERVABILITY_ERROR_CODES = {
  LISTEN_FAILED: 'The operator HTTP port could not listen on the requested address (port in use, address not local).',
} as const;

export type ObservabilityErrorCode = keyof typeof OBSERVABILITY_ERROR_CODES;

export class ObservabilityError extends Error {
  override readonly name = 'ObservabilityError';
  readonly code: ObservabilityErrorCode;
  /** What went wrong without the lead-in, for an app that words its own sentence: `127.0.0.1:5580 is already in use`. */
  readonly detail: string;

  constructor(code: ObservabilityErrorCode, detail: string, options?: { cause?: unknown }) {
    super(`${code === 'LISTEN_FAILED' ? 'cannot listen' : code}: ${detail}`, options);
    this.code = code;
    this.detail = detail;
  }
}
