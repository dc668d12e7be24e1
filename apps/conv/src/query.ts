import {
  type ConversionRequest,
  type Endpoint,
  type Result,
  fail,
  formatConversionRequest,
  ok,
  parseAmount,
  parseConversionReply,
  parseConversionRequest,
  tokenize,
} from '@conv/protocol';
import { exchangeLines } from './line-exchange';

/**
 * Reads a question in either order people write it: `56.34 $ cm` (amount first) or the
 * course's `$ cm 56.34`, as separate words or one quoted string.
 */
export function parseQuery(words: readonly string[]): Result<ConversionRequest> {
  const tokens = words.flatMap((word) => tokenize(word));
  if (tokens.length !== 3) {
    return fail('BAD_ARITY', `ask as "conv <amount> <from> <to>" (e.g. conv 56.34 '$' cm), got ${tokens.length} words.`);
  }
  const [first = '', second = '', third = ''] = tokens;
  const amountFirst = parseAmount(first).ok && !parseAmount(third).ok;
  return parseConversionRequest(amountFirst ? `${second} ${third} ${first}` : `${first} ${second} ${third}`);
}

/** Asks a conversion server (the proxy, or any converter) one question, the course's way. */
export async function ask(server: Endpoint, request: ConversionRequest, timeoutMs: number): Promise<Result<number>> {
  // Greeting first, then the answer: two lines make a complete exchange.
  const lines = await exchangeLines(server, formatConversionRequest(request), (got) => got.length >= 2, timeoutMs);
  if (!lines.ok) return lines;
  const answer = lines.value[1];
  if (answer === undefined) return fail('UNAVAILABLE', 'the server closed the connection without answering.');
  const reply = parseConversionReply(answer);
  if (!reply.ok) return reply;
  return reply.value.kind === 'amount' ? ok(reply.value.amount) : { ok: false, failure: reply.value.failure };
}
