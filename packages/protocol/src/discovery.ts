import { z } from 'zod';
import { formatFailure, parseFailure } from './failure-line';
import { type Failure, FailureSchema, type Result, fail, failure, ok, quote } from './failures';
import { EndpointSchema, TokenSchema, UnitSchema, parseHost, parsePort, parseToken, parseUnit, tokenize } from './tokens';

// ---------------------------------------------------------------------------------------------
// Requests

export const UnitsSchema = z.tuple([UnitSchema, UnitSchema]);

/** ADD and REMOVE change the registry; a server with a shared secret requires `token=<secret>`. */
export const AddRequestSchema = z.object({
  verb: z.literal('ADD'),
  units: UnitsSchema,
  endpoint: EndpointSchema,
  token: TokenSchema.optional(),
});
export const RemoveRequestSchema = z.object({ verb: z.literal('REMOVE'), endpoint: EndpointSchema, token: TokenSchema.optional() });
export const LookupRequestSchema = z.object({ verb: z.literal('LOOKUP'), units: UnitsSchema });
export const LookupMultiRequestSchema = z.object({ verb: z.literal('LOOKUP_MULTI'), from: UnitSchema, to: UnitSchema });
export const PingRequestSchema = z.object({ verb: z.literal('PING') });
export const ListRequestSchema = z.object({ verb: z.literal('LIST') });
export const HelpRequestSchema = z.object({ verb: z.literal('HELP') });

export const DiscoveryRequestSchema = z.discriminatedUnion('verb', [
  AddRequestSchema,
  RemoveRequestSchema,
  LookupRequestSchema,
  LookupMultiRequestSchema,
  PingRequestSchema,
  ListRequestSchema,
  HelpRequestSchema,
]);
export type DiscoveryRequest = z.infer<typeof DiscoveryRequestSchema>;
export type DiscoveryVerb = DiscoveryRequest['verb'];

type Grammar = { args: readonly string[]; build: (args: string[]) => Result<DiscoveryRequest> };

const GRAMMAR: Record<DiscoveryVerb, Grammar> = {
  ADD: {
    args: ['<unit1>', '<unit2>', '<host>', '<port>'],
    build: ([u1 = '', u2 = '', host = '', port = '']) =>
      all([parseUnit(u1), parseUnit(u2), parseHost(host), parsePort(port)], ([a, b, h, p]) => ({
        verb: 'ADD',
        units: [a, b],
        endpoint: { host: h, port: p },
      })),
  },
  REMOVE: {
    args: ['<host>', '<port>'],
    build: ([host = '', port = '']) =>
      all([parseHost(host), parsePort(port)], ([h, p]) => ({ verb: 'REMOVE', endpoint: { host: h, port: p } })),
  },
  LOOKUP: {
    args: ['<unit1>', '<unit2>'],
    build: ([u1 = '', u2 = '']) => all([parseUnit(u1), parseUnit(u2)], ([a, b]) => ({ verb: 'LOOKUP', units: [a, b] })),
  },
  LOOKUP_MULTI: {
    args: ['<from>', '<to>'],
    build: ([from = '', to = '']) =>
      all([parseUnit(from), parseUnit(to)], ([f, t]) => ({ verb: 'LOOKUP_MULTI', from: f, to: t })),
  },
  PING: { args: [], build: () => ok({ verb: 'PING' }) },
  LIST: { args: [], build: () => ok({ verb: 'LIST' }) },
  HELP: { args: [], build: () => ok({ verb: 'HELP' }) },
};

/** Verbs as typed on the wire (case-insensitive), aliases included. */
const VERBS: ReadonlyMap<string, DiscoveryVerb> = new Map([
  ...Object.keys(GRAMMAR).map((verb) => [verb, verb as DiscoveryVerb] as const),
  ['PATH', 'LOOKUP_MULTI'],
]);

const VERB_LIST = 'ADD, REMOVE, LOOKUP, LOOKUP_MULTI (or PATH), PING, LIST or HELP';

/** Parses one request line (without its terminator). */
export function parseDiscoveryRequest(line: string): Result<DiscoveryRequest> {
  const [word = '', ...args] = tokenize(line);
  const verb = VERBS.get(word.toUpperCase());
  if (verb === undefined) return fail('UNKNOWN_VERB', `${quote(word)} is not a command; expected ${VERB_LIST}.`);
  const grammar = GRAMMAR[verb];
  // Registry changes may end with `token=<secret>`: a seed-style client adds it to its line.
  let token: string | undefined;
  if ((verb === 'ADD' || verb === 'REMOVE') && args.at(-1)?.startsWith(TOKEN_PREFIX)) {
    const parsed = parseToken((args.pop() ?? '').slice(TOKEN_PREFIX.length));
    if (!parsed.ok) return parsed;
    token = parsed.value;
  }
  if (args.length !== grammar.args.length) {
    const usage = [verb, ...grammar.args].join(' ');
    const count = grammar.args.length;
    return fail(
      'BAD_ARITY',
      `${verb} takes ${count} argument${count === 1 ? '' : 's'} (${usage}), got ${args.length}.`,
    );
  }
  const request = grammar.build(args);
  if (token !== undefined && request.ok && (request.value.verb === 'ADD' || request.value.verb === 'REMOVE')) {
    request.value.token = token;
  }
  return request;
}

const TOKEN_PREFIX = 'token=';

/** The request line a client sends, with its terminator. */
export function formatDiscoveryRequest(request: DiscoveryRequest): string {
  switch (request.verb) {
    case 'ADD':
      return `ADD ${request.units[0]} ${request.units[1]} ${request.endpoint.host} ${request.endpoint.port}${tokenArg(request.token)}\n`;
    case 'REMOVE':
      return `REMOVE ${request.endpoint.host} ${request.endpoint.port}${tokenArg(request.token)}\n`;
    case 'LOOKUP':
      return `LOOKUP ${request.units[0]} ${request.units[1]}\n`;
    case 'LOOKUP_MULTI':
      return `LOOKUP_MULTI ${request.from} ${request.to}\n`;
    case 'PING':
    case 'LIST':
    case 'HELP':
      return `${request.verb}\n`;
  }
}

function tokenArg(token: string | undefined): string {
  return token === undefined ? '' : ` ${TOKEN_PREFIX}${token}`;
}

// ---------------------------------------------------------------------------------------------
// Replies

export const HealthSchema = z.enum(['pending', 'up', 'down']);
export type Health = z.infer<typeof HealthSchema>;

export const PathHopSchema = z.object({ from: UnitSchema, to: UnitSchema, endpoint: EndpointSchema });
export type PathHop = z.infer<typeof PathHopSchema>;

export const ListedRegistrationSchema = z.object({
  units: UnitsSchema,
  endpoint: EndpointSchema,
  health: HealthSchema,
});
export type ListedRegistration = z.infer<typeof ListedRegistrationSchema>;

export const DiscoveryReplySchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('success') }),
  z.object({ kind: z.literal('endpoint'), endpoint: EndpointSchema }),
  z.object({ kind: z.literal('path'), hops: z.array(PathHopSchema).min(1) }),
  z.object({ kind: z.literal('pong') }),
  z.object({ kind: z.literal('list'), registrations: z.array(ListedRegistrationSchema) }),
  z.object({ kind: z.literal('help'), lines: z.array(z.string().regex(/^[^\r\n]*$/).refine((l) => l.trim() !== END)) }),
  z.object({ kind: z.literal('failure'), failure: FailureSchema }),
]);
export type DiscoveryReply = z.infer<typeof DiscoveryReplySchema>;

/** The line that closes a multi-line LIST or HELP reply. */
export const END = 'END';

export const DISCOVERY_HELP: readonly string[] = [
  'conv discovery: commands are case-insensitive, one per line; unit pairs are unordered.',
  'ADD <unit1> <unit2> <host> <port>   register a conversion server -> SUCCESS',
  'REMOVE <host> <port>                unregister a conversion server -> SUCCESS',
  '  (a server started with a token needs token=<secret> after ADD and REMOVE)',
  'LOOKUP <unit1> <unit2>              one server of the pair, round robin -> <host> <port>',
  'LOOKUP_MULTI <from> <to>            fewest-hops path (alias PATH) -> one line per hop:',
  '                                    <from> <to> <host> <port> <isEnd>',
  'PING                                -> PONG',
  'LIST                                every registration: <unit1> <unit2> <host> <port> <health>, then END',
  'HELP                                this text, then END',
  'Failures are one line: FAILURE <sentence> (<CODE>).',
];

/** The bytes a server writes for a reply: one or more lines, each with its terminator. */
export function formatDiscoveryReply(reply: DiscoveryReply): string {
  switch (reply.kind) {
    case 'success':
      return 'SUCCESS\n';
    case 'endpoint':
      return `${reply.endpoint.host} ${reply.endpoint.port}\n`;
    case 'path':
      return reply.hops
        .map((hop, i) => `${hop.from} ${hop.to} ${hop.endpoint.host} ${hop.endpoint.port} ${i === reply.hops.length - 1 ? 1 : 0}\n`)
        .join('');
    case 'pong':
      return 'PONG\n';
    case 'list':
      return (
        reply.registrations
          .map((r) => `${r.units[0]} ${r.units[1]} ${r.endpoint.host} ${r.endpoint.port} ${r.health}\n`)
          .join('') + `${END}\n`
      );
    case 'help':
      return reply.lines.map((line) => `${line}\n`).join('') + `${END}\n`;
    case 'failure':
      return formatFailure(reply.failure);
  }
}

/** What a reply reader says after each line: wait for more, or here is the whole reply. */
export type ReplyStep = { done: false } | { done: true; reply: DiscoveryReply };

export interface DiscoveryReplyReader {
  /** Feeds one reply line (without terminator). A malformed line ends the reply as a failure. */
  push(line: string): ReplyStep;
}

const MORE: ReplyStep = { done: false };

/**
 * Reassembles the reply to a request of `verb` from lines, for clients. Replies to LIST, HELP
 * and LOOKUP_MULTI span several lines; every other reply is one line. A FAILURE line ends any reply.
 */
export function createDiscoveryReplyReader(verb: DiscoveryVerb): DiscoveryReplyReader {
  const hops: PathHop[] = [];
  const registrations: ListedRegistration[] = [];
  const helpLines: string[] = [];
  const done = (reply: DiscoveryReply): ReplyStep => ({ done: true, reply });
  const malformed = (line: string, expected: string): ReplyStep =>
    done({ kind: 'failure', failure: unexpected(line, expected) });

  return {
    push(line: string): ReplyStep {
      const failed = parseFailure(line);
      // Help text may mention FAILURE; only a first line that is a failure ends a HELP reply.
      if (failed && (verb !== 'HELP' || helpLines.length === 0)) return done({ kind: 'failure', failure: failed });
      const tokens = tokenize(line);
      switch (verb) {
        case 'ADD':
        case 'REMOVE':
          return tokens.length === 1 && tokens[0]?.toUpperCase() === 'SUCCESS'
            ? done({ kind: 'success' })
            : malformed(line, 'SUCCESS');
        case 'PING':
          return tokens.length === 1 && tokens[0]?.toUpperCase() === 'PONG' ? done({ kind: 'pong' }) : malformed(line, 'PONG');
        case 'LOOKUP': {
          const endpoint = readEndpoint(tokens[0], tokens[1]);
          return tokens.length === 2 && endpoint ? done({ kind: 'endpoint', endpoint }) : malformed(line, '<host> <port>');
        }
        case 'LOOKUP_MULTI': {
          const [from, to, host, port, isEnd] = tokens;
          const endpoint = readEndpoint(host, port);
          const units = readUnits(from, to);
          if (tokens.length !== 5 || !endpoint || !units || (isEnd !== '0' && isEnd !== '1')) {
            return malformed(line, '<from> <to> <host> <port> <isEnd>');
          }
          hops.push({ from: units[0], to: units[1], endpoint });
          return isEnd === '1' ? done({ kind: 'path', hops: [...hops] }) : MORE;
        }
        case 'LIST': {
          if (tokens.length === 1 && tokens[0] === END) return done({ kind: 'list', registrations: [...registrations] });
          const [u1, u2, host, port, health] = tokens;
          const endpoint = readEndpoint(host, port);
          const units = readUnits(u1, u2);
          const state = HealthSchema.safeParse(health);
          if (tokens.length !== 5 || !endpoint || !units || !state.success) {
            return malformed(line, '<unit1> <unit2> <host> <port> <health> or END');
          }
          registrations.push({ units, endpoint, health: state.data });
          return MORE;
        }
        case 'HELP':
          if (line.trim() === END) return done({ kind: 'help', lines: [...helpLines] });
          helpLines.push(line);
          return MORE;
      }
    },
  };
}

/** Reads a whole reply from its lines; fails when the lines end before the reply does. */
export function parseDiscoveryReply(verb: DiscoveryVerb, lines: readonly string[]): Result<DiscoveryReply> {
  const reader = createDiscoveryReplyReader(verb);
  for (const line of lines) {
    const step = reader.push(line);
    if (step.done) return ok(step.reply);
  }
  return fail('UNSPECIFIED', `the reply to ${verb} ended early.`);
}

function readEndpoint(host: string | undefined, port: string | undefined) {
  if (host === undefined || port === undefined) return undefined;
  const h = parseHost(host);
  const p = parsePort(port);
  return h.ok && p.ok ? { host: h.value, port: p.value } : undefined;
}

function readUnits(a: string | undefined, b: string | undefined): [string, string] | undefined {
  if (a === undefined || b === undefined) return undefined;
  return parseUnit(a).ok && parseUnit(b).ok ? [a, b] : undefined;
}

function unexpected(line: string, expected: string): Failure {
  return failure('UNSPECIFIED', `the reply line ${quote(line)} is not of the form ${expected}.`);
}

/** Combines field results: the first failure wins, in argument order. */
function all<T extends unknown[], R>(
  results: { [K in keyof T]: Result<T[K]> },
  build: (values: T) => R,
): Result<R> {
  const values: unknown[] = [];
  for (const result of results) {
    if (!result.ok) return result;
    values.push(result.value);
  }
  return ok(build(values as T));
}
