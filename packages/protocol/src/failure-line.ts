import { type Failure, FAILURES, type FailureCode, failure } from './failures';
import { tokenize } from './tokens';

/** `FAILURE <message> (<CODE>)`, with the line terminator. */
export function formatFailure(f: Failure): string {
  return `FAILURE ${f.message} (${f.code})\n`;
}

const TRAILING_CODE = /\s*\(([A-Z][A-Z0-9_]*)\)$/;

/**
 * Reads a failure line, or returns undefined when the line is not one. Lenient on purpose:
 * servers written for the seeds answer `Failure <reason>` with no code, which reads as
 * UNSPECIFIED with their reason kept.
 */
export function parseFailure(line: string): Failure | undefined {
  const trimmed = line.trim();
  const [first] = tokenize(trimmed);
  if (first?.toUpperCase() !== 'FAILURE') return undefined;
  const rest = trimmed.slice(first.length).trim();
  const match = TRAILING_CODE.exec(rest);
  const code = match?.[1];
  if (match && code !== undefined && isFailureCode(code)) {
    const message = rest.slice(0, match.index).trim();
    return { code, message: message || FAILURES[code] };
  }
  return rest ? { code: 'UNSPECIFIED', message: rest } : failure('UNSPECIFIED');
}

function isFailureCode(code: string): code is FailureCode {
  return Object.hasOwn(FAILURES, code);
}
