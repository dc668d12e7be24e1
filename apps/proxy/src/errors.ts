/** Why the proxy stopped before or instead of serving: a stable code and a human sentence. */
export const PROXY_ERROR_CODES = {
  USAGE: 'bad usage',
  LISTEN_FAILED: 'cannot listen',
} as const;

export type ProxyErrorCode = keyof typeof PROXY_ERROR_CODES;

export class ProxyError extends Error {
  override readonly name = 'ProxyError';
  readonly code: ProxyErrorCode;

  constructor(code: ProxyErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
  }
}

/** The process exit code for an error: 2 for bad usage, 1 for everything else. */
export function exitCodeFor(error: unknown): number {
  return error instanceof ProxyError && error.code === 'USAGE' ? 2 : 1;
}
