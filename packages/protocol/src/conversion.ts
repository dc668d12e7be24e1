import { z } from 'zod';
import { formatFailure, parseFailure } from './failure-line';
import { FailureSchema, type Result, fail, ok } from './failures';
import { AmountSchema, EndpointSchema, UnitSchema, formatAmount, parseAmount, parseHost, parsePort, parseUnit, tokenize } from './tokens';

// The conversion protocol: on connect the server sends a greeting line; the client sends
// `<from> <to> <amount>`; the server answers one line, a number or a FAILURE; both close.

export const GreetingSchema = z.discriminatedUnion('role', [
  z.object({ role: z.literal('converter'), units: z.tuple([UnitSchema, UnitSchema]) }),
  z.object({ role: z.literal('proxy') }),
]);
export type Greeting = z.infer<typeof GreetingSchema>;

const USAGE = 'send "<from> <to> <amount>"';

export function formatGreeting(greeting: Greeting): string {
  switch (greeting.role) {
    case 'converter':
      return `HELLO converter ${greeting.units[0]} ${greeting.units[1]} - ${USAGE}\n`;
    case 'proxy':
      return `HELLO proxy - ${USAGE}\n`;
  }
}

/** Reads a greeting; undefined for a greeting we did not write (any text is a valid greeting). */
export function parseGreeting(line: string): Greeting | undefined {
  const [hello, role, a, b] = tokenize(line);
  if (hello !== 'HELLO') return undefined;
  if (role === 'proxy') return { role };
  if (role === 'converter' && a !== undefined && b !== undefined && parseUnit(a).ok && parseUnit(b).ok) {
    return { role, units: [a, b] };
  }
  return undefined;
}

export const ConversionRequestSchema = z.object({ from: UnitSchema, to: UnitSchema, amount: AmountSchema });
export type ConversionRequest = z.infer<typeof ConversionRequestSchema>;

export function parseConversionRequest(line: string): Result<ConversionRequest> {
  const tokens = tokenize(line);
  if (tokens.length !== 3) {
    return fail('BAD_ARITY', `a request is "<from> <to> <amount>", e.g. "ft in 1.25"; got ${tokens.length} tokens.`);
  }
  const [fromToken = '', toToken = '', amountToken = ''] = tokens;
  const from = parseUnit(fromToken);
  if (!from.ok) return from;
  const to = parseUnit(toToken);
  if (!to.ok) return to;
  const amount = parseAmount(amountToken);
  if (!amount.ok) return amount;
  return ok({ from: from.value, to: to.value, amount: amount.value });
}

/**
 * Opt-in persistent mode: a client whose first line is `PERSIST` gets `OK persistent`, then one
 * answer per request line until it closes. Course clients never send it and see no change; the
 * proxy uses it so that a hop does not cost a TCP handshake.
 */
export const PERSIST = 'PERSIST';
export const PERSIST_ACK = 'OK persistent';

/**
 * Tagged persistent mode: `PERSIST TAGGED` gets `OK persistent tagged` from a server that
 * speaks it (one that grants persistence alone answers `OK persistent`). Then a request may
 * start with a tag, `#<tag> <from> <to> <amount>`, and its answer starts with the same tag,
 * `#<tag> <answer>`: a client may send several requests before reading (pipelining) and check
 * which request each answer belongs to, so a server that answers one request twice cannot hand
 * its extra line to the next one.
 */
export const PERSIST_TAGGED = 'PERSIST TAGGED';
export const PERSIST_TAGGED_ACK = 'OK persistent tagged';

/** A tag: `#` and up to 16 letters or digits. */
const TAG = /^#[0-9A-Za-z]{1,16}$/;

/** `#<tag> <rest>` split in two; a line without a tag is all rest. */
export function splitTag(line: string): { tag: string | undefined; rest: string } {
  if (!line.startsWith('#')) return { tag: undefined, rest: line };
  const space = line.indexOf(' ');
  const tag = space < 0 ? line : line.slice(0, space);
  if (!TAG.test(tag)) return { tag: undefined, rest: line };
  return { tag, rest: space < 0 ? '' : line.slice(space + 1) };
}

/**
 * Opt-in tracing, answered by the proxy: `TRACE <from> <to> <amount>` gets one `HOP` line per
 * conversion, naming the server that answered it, then the answer line as usual.
 */
export const TRACE = 'TRACE';

export type ConversionCommand =
  | { kind: 'persist'; tagged: boolean }
  | { kind: 'convert'; request: ConversionRequest }
  | { kind: 'trace'; request: ConversionRequest };

/** Reads a line a client sends: `PERSIST`, `PERSIST TAGGED`, `TRACE <from> <to> <amount>` (any case) or a request. */
export function parseConversionCommand(line: string): Result<ConversionCommand> {
  const tokens = tokenize(line);
  const first = tokens[0]?.toUpperCase();
  if (tokens.length === 1 && first === PERSIST) return ok({ kind: 'persist', tagged: false });
  if (tokens.length === 2 && first === PERSIST && tokens[1]?.toUpperCase() === 'TAGGED') return ok({ kind: 'persist', tagged: true });
  if (first === TRACE) {
    const traced = parseConversionRequest(tokens.slice(1).join(' '));
    return traced.ok ? ok({ kind: 'trace', request: traced.value }) : traced;
  }
  const request = parseConversionRequest(line);
  return request.ok ? ok({ kind: 'convert', request: request.value }) : request;
}

/** One conversion of a traced request: which server turned `input` into `output`. */
export const TracedHopSchema = z.object({
  from: UnitSchema,
  to: UnitSchema,
  endpoint: EndpointSchema,
  input: AmountSchema,
  output: AmountSchema,
});
export type TracedHop = z.infer<typeof TracedHopSchema>;

/** `HOP <from> <to> <host> <port> <input> <output>`, with the line terminator. */
export function formatTracedHop(hop: TracedHop): string {
  const { from, to, endpoint, input, output } = hop;
  return `HOP ${from} ${to} ${endpoint.host} ${endpoint.port} ${formatAmount(input)} ${formatAmount(output)}\n`;
}

/** Reads a `HOP` line; undefined for any other line (the answer that ends a traced reply). */
export function parseTracedHop(line: string): TracedHop | undefined {
  const tokens = tokenize(line);
  if (tokens.length !== 7 || tokens[0] !== 'HOP') return undefined;
  const [, from = '', to = '', host = '', port = '', input = '', output = ''] = tokens;
  const f = parseUnit(from);
  const t = parseUnit(to);
  const h = parseHost(host);
  const p = parsePort(port);
  const i = parseAmount(input);
  const o = parseAmount(output);
  if (!f.ok || !t.ok || !h.ok || !p.ok || !i.ok || !o.ok) return undefined;
  return { from: f.value, to: t.value, endpoint: { host: h.value, port: p.value }, input: i.value, output: o.value };
}

export function formatConversionRequest(request: ConversionRequest): string {
  return `${request.from} ${request.to} ${formatAmount(request.amount)}\n`;
}

export const ConversionReplySchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('amount'), amount: AmountSchema }),
  z.object({ kind: z.literal('failure'), failure: FailureSchema }),
]);
export type ConversionReply = z.infer<typeof ConversionReplySchema>;

export function formatConversionReply(reply: ConversionReply): string {
  return reply.kind === 'amount' ? `${formatAmount(reply.amount)}\n` : formatFailure(reply.failure);
}

/** Reads a server's answer line: a number, a FAILURE, or anything else (a malformed answer). */
export function parseConversionReply(line: string): Result<ConversionReply> {
  const failed = parseFailure(line);
  if (failed) return ok({ kind: 'failure', failure: failed });
  const tokens = tokenize(line);
  const amount = tokens.length === 1 ? parseAmount(tokens[0] ?? '') : undefined;
  if (amount?.ok) return ok({ kind: 'amount', amount: amount.value });
  return fail('UNSPECIFIED', `the answer ${JSON.stringify(line.slice(0, 40))} is neither a number nor a FAILURE line.`);
}
