/**
 * Every way the converter refuses to start or run, in one table: a stable code and what it
 * means. Callers match on `code`, never on message text; main.ts maps codes to exit codes.
 */
export const CONVERTER_ERROR_CODES = {
  USAGE: 'A flag or argument is missing or malformed (exit 2).',
  UNDERIVABLE_PAIR: 'The catalog cannot derive the pair and no --factor was given (exit 2).',
  LISTEN_FAILED: 'The server could not listen on the requested address and port (exit 1).',
  DISCOVERY_UNREACHABLE: 'The discovery server refused, reset, timed out or closed before replying.',
} as const;

export type ConverterErrorCode = keyof typeof CONVERTER_ERROR_CODES;

export class ConverterError extends Error {
  override readonly name = 'ConverterError';
  readonly code: ConverterErrorCode;

  constructor(code: ConverterErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
  }
}

/** The exit code for an error that reached main's top-level catch. */
export function exitCodeFor(error: unknown): 1 | 2 {
  if (error instanceof ConverterError && (error.code === 'USAGE' || error.code === 'UNDERIVABLE_PAIR')) return 2;
  return 1;
}
