import {
  type ConversionRequest,
  type Endpoint,
  type Result,
  fail,
  formatConversionRequest,
  ok,
  parseAmount,
  TRACE,
  type TracedHop,
  formatAmount,
  parseConversionReply,
  parseConversionRequest,
  parseTracedHop,
  tokenize,
  formatAddress,
} from '@conv/protocol';
import { exchangeLines } from '@conv/server';

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

/** A traced answer: the conversions the proxy made, and the answer they led to. */
export type TracedAnswer = { hops: TracedHop[]; answer: Result<number> };

/** Asks the proxy with TRACE: every hop it took, with the server that answered it. */
export async function askTraced(proxy: Endpoint, request: ConversionRequest, timeoutMs: number): Promise<Result<TracedAnswer>> {
  const line = `${TRACE} ${formatConversionRequest(request)}`;
  // The proxy closes after the answer line; every line before it but the greeting is a HOP.
  const lines = await exchangeLines(proxy, line, () => false, timeoutMs);
  if (!lines.ok) return lines;
  const [, ...rest] = lines.value;
  const hops: TracedHop[] = [];
  for (const text of rest) {
    const hop = parseTracedHop(text);
    if (hop) {
      hops.push(hop);
      continue;
    }
    const reply = parseConversionReply(text);
    if (!reply.ok) return reply;
    const answer: Result<number> = reply.value.kind === 'amount' ? ok(reply.value.amount) : { ok: false, failure: reply.value.failure };
    return ok({ hops, answer });
  }
  return fail('UNAVAILABLE', 'the proxy closed the connection without answering.');
}

/** One line per hop: `$ -> oz   127.0.0.1:6013   56.34 -> 1502.4`. */
export function formatHops(hops: readonly TracedHop[]): string[] {
  const width = Math.max(0, ...hops.map((hop) => `${hop.from} -> ${hop.to}`.length));
  return hops.map((hop) => {
    const units = `${hop.from} -> ${hop.to}`.padEnd(width);
    return `${units}   ${formatAddress(hop.endpoint).padEnd(21)} ${formatAmount(hop.input)} -> ${formatAmount(hop.output)}`;
  });
}
