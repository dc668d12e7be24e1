import { z } from 'zod';

/**
 * Every way a request can fail on the wire, in one table: a stable code and the short phrase
 * that opens its sentence. Codes are never renamed or reused; retired ones stay listed.
 *
 * On the wire a failure is one line: `FAILURE <phrase> <detail> (<CODE>)`. The phrase comes
 * first so that seed clients that look for `FAILURE entry exists.` keep working, and the
 * code sits last, in parentheses, where a program finds it without parsing the sentence.
 */
export const FAILURES = {
  LINE_TOO_LONG: 'line too long.',
  INVALID_UTF8: 'invalid text.',
  UNKNOWN_VERB: 'unknown command.',
  BAD_ARITY: 'wrong number of arguments.',
  BAD_UNIT: 'bad unit.',
  BAD_HOST: 'bad host.',
  BAD_PORT: 'bad port.',
  BAD_AMOUNT: 'bad amount.',
  BAD_TOKEN: 'bad token.',
  BAD_LEASE: 'bad lease.',
  ENTRY_EXISTS: 'entry exists.',
  NOT_REGISTERED: 'not registered.',
  UNKNOWN_PAIR: 'unknown pair.',
  NO_PATH: 'no path.',
  SAME_UNIT: 'same unit.',
  WRONG_PAIR: 'wrong pair.',
  UNAUTHORIZED: 'unauthorized.',
  TOO_MANY_CONNECTIONS: 'too many connections.',
  TOO_MANY_PENDING: 'too many pending.',
  IDLE_TIMEOUT: 'idle timeout.',
  UNAVAILABLE: 'unavailable.',
  UPSTREAM_FAILED: 'upstream failed.',
  INTERNAL: 'internal error.',
  UNSPECIFIED: 'failure.',
} as const;

export type FailureCode = keyof typeof FAILURES;
export const FAILURE_CODES = Object.keys(FAILURES) as FailureCode[];

export const FailureCodeSchema = z.enum(FAILURE_CODES as [FailureCode, ...FailureCode[]]);

export const FailureSchema = z.object({
  code: FailureCodeSchema,
  /** The whole sentence after `FAILURE`, without the trailing `(CODE)`; one line. */
  message: z.string().min(1).regex(/^[^\r\n]*$/),
});
export type Failure = z.infer<typeof FailureSchema>;

/** Builds a failure whose message is the code's phrase followed by `detail`, kept on one line. */
export function failure(code: FailureCode, detail?: string): Failure {
  const phrase = FAILURES[code];
  const message = detail ? `${phrase} ${oneLine(detail)}` : phrase;
  return { code, message };
}

export type Result<T> = { ok: true; value: T } | { ok: false; failure: Failure };

export function ok<T>(value: T): Result<T> {
  return { ok: true, value };
}

export function fail<T = never>(code: FailureCode, detail?: string): Result<T> {
  return { ok: false, failure: failure(code, detail) };
}

function oneLine(text: string): string {
  return text.replace(/[\r\n]+/g, ' ');
}
