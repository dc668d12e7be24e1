import { parseConversionReply } from './conversion';
import type { Failure } from './failures';

/**
 * What a converter's reply line says about the converter, the same for every reader (discovery's
 * probe, the proxy's hop):
 * - `amount`: it answered a number (whether the number is right is the reader's question);
 * - `busy`: it is alive but refused this connection (TOO_MANY_CONNECTIONS at its connection
 *   limit, IDLE_TIMEOUT of a pooled connection): never a sign of death;
 * - `refused`: it refused the request itself (a bad amount, an unknown unit...): alive, and
 *   the request's own fault;
 * - `not-serving`: it is not the converter it was taken for (WRONG_PAIR: a stale
 *   registration) or it answers something that is neither a number nor a FAILURE line.
 */
export type ConverterReplyClass =
  | { kind: 'amount'; amount: number }
  | { kind: 'busy'; failure: Failure }
  | { kind: 'refused'; failure: Failure }
  | { kind: 'not-serving'; reason: string };

const BUSY_CODES: ReadonlySet<string> = new Set(['TOO_MANY_CONNECTIONS', 'IDLE_TIMEOUT']);

/** Classifies one reply line of a converter (see ConverterReplyClass). Pure; never throws. */
export function classifyConverterReply(line: string): ConverterReplyClass {
  const reply = parseConversionReply(line);
  if (!reply.ok) return { kind: 'not-serving', reason: `answered garbage: ${reply.failure.message}` };
  const answer = reply.value;
  if (answer.kind === 'amount') return { kind: 'amount', amount: answer.amount };
  const { code } = answer.failure;
  if (BUSY_CODES.has(code)) return { kind: 'busy', failure: answer.failure };
  if (code === 'WRONG_PAIR') return { kind: 'not-serving', reason: `answered WRONG_PAIR: ${answer.failure.message}` };
  return { kind: 'refused', failure: answer.failure };
}
