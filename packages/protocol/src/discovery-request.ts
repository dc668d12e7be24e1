import { z } from 'zod';
import { type Result, fail, ok } from './failures';
import { quote } from './quote';
import {
  type Unit,
  EndpointSchema,
  PortSchema,
  TokenSchema,
  UnitSchema,
  parseHost,
  parsePort,
  parseToken,
  parseUnit,
  tokenize,
} from './tokens';
import { WatchPositionSchema, WatcherNameSchema, parseEpoch, parseWatchSeq } from './watch-position';
import { LEASE_PREFIX, LeaseMsSchema, formatLease, parseLease } from './lease';

export const UnitsSchema = z.tuple([UnitSchema, UnitSchema]);

/**
 * ADD and REMOVE change the registry; a server with a shared secret requires `token=<secret>`.
 * `lease=<duration>` (only to a server listing `lease`): the registration lives while ADDs renew it.
 */
export const AddRequestSchema = z.object({
  verb: z.literal('ADD'),
  units: UnitsSchema,
  endpoint: EndpointSchema,
  /** The lease's length in milliseconds; absent: no lease, the registration is probed. */
  leaseMs: LeaseMsSchema.optional(),
  token: TokenSchema.optional(),
});
export const RemoveRequestSchema = z.object({ verb: z.literal('REMOVE'), endpoint: EndpointSchema, token: TokenSchema.optional() });
/** `REMOVE <unit1> <unit2>` (seed 2's form): the same rules, for every endpoint of the pair. */
export const RemovePairRequestSchema = z.object({ verb: z.literal('REMOVE_PAIR'), units: UnitsSchema, token: TokenSchema.optional() });
/** A request to look (probe soon), never a verdict: `REPORT <host> <port> [reason...]`. */
export const ReportRequestSchema = z.object({ verb: z.literal('REPORT'), endpoint: EndpointSchema, reason: z.string().optional() });
export const LookupRequestSchema = z.object({ verb: z.literal('LOOKUP'), units: UnitsSchema });
export const LookupMultiRequestSchema = z.object({ verb: z.literal('LOOKUP_MULTI'), from: UnitSchema, to: UnitSchema });
export const PingRequestSchema = z.object({ verb: z.literal('PING') });
export const ListRequestSchema = z.object({ verb: z.literal('LIST') });
export const HelpRequestSchema = z.object({ verb: z.literal('HELP') });
/** Keep this connection open for more requests (without it, discovery closes after the close grace). */
export const SessionRequestSchema = z.object({ verb: z.literal('SESSION') });
/** What this server can do beyond the course protocol. */
export const FeaturesRequestSchema = z.object({ verb: z.literal('FEATURES') });
/**
 * `WATCH [<epoch> <seq>] [as=<name>] [http=<port>]`: a session fed every change; `from` resumes
 * after a change already seen. A watcher may name itself and its operator port.
 */
export const WatchRequestSchema = z.object({
  verb: z.literal('WATCH'),
  from: WatchPositionSchema.optional(),
  name: WatcherNameSchema.optional(),
  httpPort: PortSchema.optional(),
});

export const DiscoveryRequestSchema = z.discriminatedUnion('verb', [
  AddRequestSchema,
  RemoveRequestSchema,
  RemovePairRequestSchema,
  ReportRequestSchema,
  LookupRequestSchema,
  LookupMultiRequestSchema,
  PingRequestSchema,
  ListRequestSchema,
  HelpRequestSchema,
  SessionRequestSchema,
  FeaturesRequestSchema,
  WatchRequestSchema,
]);
export type DiscoveryRequest = z.infer<typeof DiscoveryRequestSchema>;
/** The request kinds; `REMOVE_PAIR` is `REMOVE <unit1> <unit2>` on the wire. */
export type DiscoveryVerb = DiscoveryRequest['verb'];

/** `rest`: words after the fixed arguments are one free-text argument (REPORT's reason). */
type Grammar = { args: readonly string[]; rest?: string; build: (args: string[]) => Result<DiscoveryRequest> };

/** Verbs as typed on the wire (case-insensitive), aliases included. */
const WIRE_VERBS = ['ADD', 'REMOVE', 'REPORT', 'LOOKUP', 'LOOKUP_MULTI', 'PING', 'LIST', 'HELP', 'SESSION', 'FEATURES', 'WATCH'] as const;
type WireVerb = (typeof WIRE_VERBS)[number];

const GRAMMAR: Record<WireVerb, Grammar> = {
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
    build: ([first = '', second = '']) => {
      // Told apart by the second argument: a port after a valid host means host and port;
      // anything else means two units (`REMOVE lbs b`).
      const host = parseHost(first);
      const port = parsePort(second);
      if (host.ok && port.ok) return ok({ verb: 'REMOVE', endpoint: { host: host.value, port: port.value } });
      const units = pair(first, second, (a, b): DiscoveryRequest => ({ verb: 'REMOVE_PAIR', units: [a, b] }));
      // Neither form: a port after something that is no host was most likely meant as host and port.
      return !units.ok && port.ok && !host.ok ? host : units;
    },
  },
  REPORT: {
    args: ['<host>', '<port>'],
    rest: '[reason...]',
    build: ([host = '', port = '', ...reason]) =>
      all([parseHost(host), parsePort(port)], ([h, p]): DiscoveryRequest => {
        const request: DiscoveryRequest = { verb: 'REPORT', endpoint: { host: h, port: p } };
        if (reason.length > 0) request.reason = reason.join(' ');
        return request;
      }),
  },
  LOOKUP: {
    args: ['<unit1>', '<unit2>'],
    build: ([u1 = '', u2 = '']) => pair(u1, u2, (a, b) => ({ verb: 'LOOKUP', units: [a, b] })),
  },
  LOOKUP_MULTI: {
    args: ['<from>', '<to>'],
    build: ([from = '', to = '']) => pair(from, to, (f, t) => ({ verb: 'LOOKUP_MULTI', from: f, to: t })),
  },
  PING: { args: [], build: () => ok({ verb: 'PING' }) },
  LIST: { args: [], build: () => ok({ verb: 'LIST' }) },
  HELP: { args: [], build: () => ok({ verb: 'HELP' }) },
  SESSION: { args: [], build: () => ok({ verb: 'SESSION' }) },
  FEATURES: { args: [], build: () => ok({ verb: 'FEATURES' }) },
  // Its arguments are optional and named: read by parseWatchArguments, never by arity.
  WATCH: { args: [], build: () => ok({ verb: 'WATCH' }) },
};

const VERBS: ReadonlyMap<string, WireVerb> = new Map([...WIRE_VERBS.map((verb) => [verb, verb] as const), ['PATH', 'LOOKUP_MULTI']]);

const VERB_LIST = 'ADD, REMOVE, REPORT, LOOKUP, LOOKUP_MULTI (or PATH), PING, LIST, HELP, SESSION, FEATURES or WATCH';

const TOKEN_PREFIX = 'token=';

/** Parses one request line (without its terminator). */
export function parseDiscoveryRequest(line: string): Result<DiscoveryRequest> {
  const args = tokenize(line);
  // The verb off the front in place: a rest pattern would copy the words through an iterator.
  const word = args.shift() ?? '';
  // Verbs are nearly always sent in capitals: look them up as they are before case-folding.
  const verb = VERBS.get(word) ?? VERBS.get(word.toUpperCase());
  if (verb === undefined) return fail('UNKNOWN_VERB', `${quote(word)} is not a command; expected ${VERB_LIST}.`);
  if (verb === 'WATCH') return parseWatchArguments(args);
  const grammar = GRAMMAR[verb];
  // Registry changes may end with `token=<secret>`: a seed-style client adds it to its line.
  // ADD may also end with `lease=<duration>`; the two in either order, each at most once.
  let token: string | undefined;
  let leaseMs: number | undefined;
  for (let i = 0; i < 2 && (verb === 'ADD' || verb === 'REMOVE'); i++) {
    const last = args.at(-1);
    if (token === undefined && last?.startsWith(TOKEN_PREFIX)) {
      const parsed = parseToken((args.pop() ?? '').slice(TOKEN_PREFIX.length));
      if (!parsed.ok) return parsed;
      token = parsed.value;
    } else if (verb === 'ADD' && leaseMs === undefined && last?.toLowerCase().startsWith(LEASE_PREFIX)) {
      const parsed = parseLease((args.pop() ?? '').slice(LEASE_PREFIX.length));
      if (!parsed.ok) return parsed;
      leaseMs = parsed.value;
    }
  }
  if (args.length !== grammar.args.length && !(grammar.rest !== undefined && args.length > grammar.args.length)) {
    const usage = verb === 'REMOVE' ? 'REMOVE <host> <port> or REMOVE <unit1> <unit2>' : [verb, ...grammar.args, ...(grammar.rest ? [grammar.rest] : [])].join(' ');
    const count = grammar.args.length;
    const atLeast = grammar.rest === undefined ? '' : 'at least ';
    return fail('BAD_ARITY', `${verb} takes ${atLeast}${count} argument${count === 1 ? '' : 's'} (${usage}), got ${args.length}.`);
  }
  const request = grammar.build(args);
  if (leaseMs !== undefined && request.ok && request.value.verb === 'ADD') request.value.leaseMs = leaseMs;
  if (token !== undefined && request.ok && (request.value.verb === 'ADD' || request.value.verb === 'REMOVE' || request.value.verb === 'REMOVE_PAIR')) {
    request.value.token = token;
  }
  return request;
}

/** The request line a client sends, with its terminator. */
export function formatDiscoveryRequest(request: DiscoveryRequest): string {
  switch (request.verb) {
    case 'ADD':
      return `ADD ${request.units[0]} ${request.units[1]} ${request.endpoint.host} ${request.endpoint.port}${request.leaseMs === undefined ? '' : ` ${formatLease(request.leaseMs)}`}${tokenArg(request.token)}\n`;
    case 'REMOVE':
      return `REMOVE ${request.endpoint.host} ${request.endpoint.port}${tokenArg(request.token)}\n`;
    case 'REMOVE_PAIR':
      return `REMOVE ${request.units[0]} ${request.units[1]}${tokenArg(request.token)}\n`;
    case 'REPORT':
      return `REPORT ${request.endpoint.host} ${request.endpoint.port}${request.reason ? ` ${oneLine(request.reason)}` : ''}\n`;
    case 'LOOKUP':
      return `LOOKUP ${request.units[0]} ${request.units[1]}\n`;
    case 'LOOKUP_MULTI':
      return `LOOKUP_MULTI ${request.from} ${request.to}\n`;
    case 'PING':
    case 'LIST':
    case 'HELP':
    case 'SESSION':
    case 'FEATURES':
      return `${request.verb}\n`;
    case 'WATCH': {
      const from = request.from === undefined ? '' : ` ${request.from.epoch} ${request.from.seq}`;
      const name = request.name === undefined ? '' : ` ${WATCH_NAME}${request.name}`;
      const http = request.httpPort === undefined ? '' : ` ${WATCH_HTTP}${request.httpPort}`;
      return `WATCH${from}${name}${http}\n`;
    }
  }
}

const WATCH_NAME = 'as=';
const WATCH_HTTP = 'http=';
const WATCH_USAGE = 'WATCH [<epoch> <seq>] [as=<name>] [http=<port>]';

/** `[<epoch> <seq>] [as=<name>] [http=<port>]`: the named ones in any order, each at most once. */
function parseWatchArguments(args: readonly string[]): Result<DiscoveryRequest> {
  const request: z.infer<typeof WatchRequestSchema> = { verb: 'WATCH' };
  const positional: string[] = [];
  for (const arg of args) {
    const lower = arg.toLowerCase();
    if (lower.startsWith(WATCH_NAME) && request.name === undefined) {
      const name = arg.slice(WATCH_NAME.length);
      if (!WatcherNameSchema.safeParse(name).success) return fail('BAD_ARITY', `${quote(name)} is not a watcher name: 1 to 64 printable characters (${WATCH_USAGE}).`);
      request.name = name;
    } else if (lower.startsWith(WATCH_HTTP) && request.httpPort === undefined) {
      const port = parsePort(arg.slice(WATCH_HTTP.length));
      if (!port.ok) return port;
      request.httpPort = port.value;
    } else {
      positional.push(arg);
    }
  }
  if (positional.length === 0) return ok(request);
  if (positional.length !== 2) return fail('BAD_ARITY', `WATCH takes an epoch and a change number or nothing (${WATCH_USAGE}), got ${positional.length} other argument${positional.length === 1 ? '' : 's'}.`);
  const epoch = parseEpoch(positional[0] ?? '');
  if (!epoch.ok) return epoch;
  const seq = parseWatchSeq(positional[1] ?? '');
  if (!seq.ok) return seq;
  request.from = { epoch: epoch.value, seq: seq.value };
  return ok(request);
}

function oneLine(text: string): string {
  return text.replace(/[\r\n]+/g, ' ').trim();
}

function tokenArg(token: string | undefined): string {
  return token === undefined ? '' : ` ${TOKEN_PREFIX}${token}`;
}

/** Two units read into a request: the lookups' whole grammar, so without `all`'s arrays. */
function pair(first: string, second: string, build: (a: Unit, b: Unit) => DiscoveryRequest): Result<DiscoveryRequest> {
  const a = parseUnit(first);
  if (!a.ok) return a;
  const b = parseUnit(second);
  return b.ok ? ok(build(a.value, b.value)) : b;
}

/** Combines field results: the first failure wins, in argument order. */
function all<T extends unknown[], R>(results: { [K in keyof T]: Result<T[K]> }, build: (values: T) => R): Result<R> {
  const values: unknown[] = [];
  for (const result of results) {
    if (!result.ok) return result;
    values.push(result.value);
  }
  return ok(build(values as T));
}
