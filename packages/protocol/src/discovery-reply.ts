import { z } from 'zod';
import type { DiscoveryVerb } from './discovery-request';
import { UnitsSchema } from './discovery-request';
import { formatFailure, parseFailure } from './failure-line';
import { type Failure, FailureSchema, type Result, fail, failure, ok } from './failures';
import { quote } from './quote';
import { HealthSchema } from './health';
import { EndpointSchema, UnitSchema, parseHost, parsePort, parseUnit, tokenize } from './tokens';
import { WatchEntrySchema, type WatchEntry, formatSynced, formatWatchEntry, parseWatchLine } from './watch';
import { WatchPositionSchema } from './watch-position';
import { LEASE_PREFIX, LeaseMsSchema, formatLease, parseLease } from './lease';

export { HealthSchema } from './health';
export type { Health } from './health';

export const PathHopSchema = z.object({ from: UnitSchema, to: UnitSchema, endpoint: EndpointSchema });
export type PathHop = z.infer<typeof PathHopSchema>;

/**
 * One LIST line: `<unit1> <unit2> <host> <port> <health>`, and for a leased registration
 * ` lease=<duration>`, then ` lapsed` while its lease has lapsed (no ADD renewed it in time).
 */
export const ListedRegistrationSchema = z.object({
  units: UnitsSchema,
  endpoint: EndpointSchema,
  health: HealthSchema,
  leaseMs: LeaseMsSchema.optional(),
  lapsed: z.boolean().optional(),
});
export type ListedRegistration = z.infer<typeof ListedRegistrationSchema>;

/** A word of the FEATURES reply: lower case letters and dashes (`session`, `remove-pair`). */
export const FeatureSchema = z.string().regex(/^[a-z][a-z0-9-]*$/);

export const DiscoveryReplySchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('success') }),
  z.object({ kind: z.literal('endpoint'), endpoint: EndpointSchema }),
  z.object({ kind: z.literal('path'), hops: z.array(PathHopSchema).min(1) }),
  z.object({ kind: z.literal('pong') }),
  z.object({ kind: z.literal('list'), registrations: z.array(ListedRegistrationSchema) }),
  z.object({ kind: z.literal('help'), lines: z.array(z.string().regex(/^[^\r\n]*$/).refine((l) => l.trim() !== END)) }),
  z.object({ kind: z.literal('session') }),
  z.object({ kind: z.literal('features'), features: z.array(FeatureSchema) }),
  /** The reply to WATCH: a snapshot (or, on a resume, no entries) up to the change `position`. */
  z.object({ kind: z.literal('synced'), entries: z.array(WatchEntrySchema), position: WatchPositionSchema }),
  z.object({ kind: z.literal('failure'), failure: FailureSchema }),
]);
export type DiscoveryReply = z.infer<typeof DiscoveryReplySchema>;

/** The line that closes a multi-line LIST or HELP reply. */
export const END = 'END';

/** What `SESSION` is answered with. */
export const SESSION_ACK = 'OK session';

export const DISCOVERY_HELP: readonly string[] = [
  'conv discovery: commands are case-insensitive, one per line; unit pairs are unordered.',
  'Each connection is closed shortly after its last reply: type SESSION first to keep it open.',
  'ADD <unit1> <unit2> <host> <port>   register a conversion server -> SUCCESS',
  '  [lease=<duration>]                 ...that proves it lives by repeating this ADD within it',
  'REMOVE <host> <port>                unregister a conversion server -> SUCCESS',
  'REMOVE <unit1> <unit2>              unregister every server of the pair -> SUCCESS',
  'REPORT <host> <port> [reason...]    ask for a health check of a server soon -> SUCCESS',
  '  (a server started with a token needs token=<secret> after ADD and REMOVE)',
  'LOOKUP <unit1> <unit2>              one server of the pair, round robin -> <host> <port>',
  'LOOKUP_MULTI <from> <to>            fewest-hops path (alias PATH) -> one line per hop:',
  '                                    <from> <to> <host> <port> <isEnd>',
  'PING                                -> PONG',
  'LIST                                every registration: <unit1> <unit2> <host> <port> <health>',
  '                                    [lease=<duration> [lapsed]], then END',
  'SESSION                             keep this connection open -> OK session',
  'FEATURES                            what this server adds to the course protocol -> FEATURES <words>',
  'WATCH [<epoch> <seq>]               every registration (ENTRY lines), SYNCED <epoch> <seq>, then',
  '                                    one CHANGE line per change as it happens',
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
    case 'path': {
      // Every LOOKUP_MULTI is answered here: a plain loop, no closure or array per hop.
      let text = '';
      const last = reply.hops.length - 1;
      for (let i = 0; i <= last; i++) {
        const hop = reply.hops[i] as PathHop;
        text += `${hop.from} ${hop.to} ${hop.endpoint.host} ${hop.endpoint.port} ${i === last ? '1' : '0'}\n`;
      }
      return text;
    }
    case 'pong':
      return 'PONG\n';
    case 'list':
      return reply.registrations.map((r) => `${r.units[0]} ${r.units[1]} ${r.endpoint.host} ${r.endpoint.port} ${r.health}${leaseWords(r)}\n`).join('') + `${END}\n`;
    case 'help':
      return reply.lines.map((line) => `${line}\n`).join('') + `${END}\n`;
    case 'session':
      return `${SESSION_ACK}\n`;
    case 'features':
      return `FEATURES${reply.features.map((word) => ` ${word}`).join('')}\n`;
    case 'synced':
      return reply.entries.map(formatWatchEntry).join('') + formatSynced(reply.position);
    case 'failure':
      return formatFailure(reply.failure);
  }
}

/**
 * Words the course's discovery servers used for "done": `SUCCESS`, `Success`, `SUC`, `OK`...
 * read case-insensitively, a trailing `.` or `!` and words after the first allowed.
 */
const SUCCESS_WORDS = new Set(['SUCCESS', 'SUCCEEDED', 'SUCCESSFUL', 'SUC', 'OK', 'OKAY', 'DONE', 'ADDED', 'REMOVED', 'REGISTERED', 'UNREGISTERED']);

/** How many lines before a reply may be something else (a greeting of any wording). */
const MAX_NOISE_LINES = 4;

/** What a reply reader says after each line: wait for more, or here is the whole reply. */
export type ReplyStep = { done: false } | { done: true; reply: DiscoveryReply };

export interface DiscoveryReplyReader {
  /** Feeds one reply line (without terminator). A malformed line ends the reply as a failure. */
  push(line: string): ReplyStep;
}

const MORE: ReplyStep = { done: false };

/**
 * Reassembles the reply to a request of `verb` from lines, for clients, as liberally as the
 * course's servers need: a line before the reply that cannot start it (a greeting, a banner) is
 * skipped, a few at most; `Success`, `SUC` or `OK` read as SUCCESS. Replies to LIST, HELP and
 * LOOKUP_MULTI span several lines; every other reply is one line. A FAILURE line ends any reply.
 */
export function createDiscoveryReplyReader(verb: DiscoveryVerb): DiscoveryReplyReader {
  const hops: PathHop[] = [];
  const registrations: ListedRegistration[] = [];
  const helpLines: string[] = [];
  const entries: WatchEntry[] = [];
  let started = false;
  let noise = 0;
  const done = (reply: DiscoveryReply): ReplyStep => ({ done: true, reply });
  const malformed = (line: string, expected: string): ReplyStep => {
    // Before the reply has started, a line of another shape is someone's greeting: skip it.
    if (!started && ++noise <= MAX_NOISE_LINES) return MORE;
    return done({ kind: 'failure', failure: unexpected(line, expected) });
  };

  return {
    push(line: string): ReplyStep {
      const failed = parseFailure(line);
      // Help text may mention FAILURE; only a first line that is a failure ends a HELP reply.
      if (failed && (verb !== 'HELP' || helpLines.length === 0)) return done({ kind: 'failure', failure: failed });
      const tokens = tokenize(line);
      switch (verb) {
        case 'ADD':
        case 'REMOVE':
        case 'REMOVE_PAIR':
        case 'REPORT':
          return SUCCESS_WORDS.has((tokens[0] ?? '').toUpperCase().replace(/[.!:,]+$/, '')) ? done({ kind: 'success' }) : malformed(line, 'SUCCESS');
        case 'PING':
          return tokens.length === 1 && tokens[0]?.toUpperCase() === 'PONG' ? done({ kind: 'pong' }) : malformed(line, 'PONG');
        case 'SESSION':
          return line.trim().toUpperCase() === SESSION_ACK.toUpperCase() ? done({ kind: 'session' }) : malformed(line, SESSION_ACK);
        case 'FEATURES':
          return tokens[0]?.toUpperCase() === 'FEATURES'
            ? done({ kind: 'features', features: tokens.slice(1).map((word) => word.toLowerCase()).filter((word) => FeatureSchema.safeParse(word).success) })
            : malformed(line, 'FEATURES <words>');
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
          started = true;
          hops.push({ from: units[0], to: units[1], endpoint });
          return isEnd === '1' ? done({ kind: 'path', hops: [...hops] }) : MORE;
        }
        case 'LIST': {
          if (tokens.length === 1 && tokens[0] === END) return done({ kind: 'list', registrations: [...registrations] });
          const [u1, u2, host, port, health, ...more] = tokens;
          const endpoint = readEndpoint(host, port);
          const units = readUnits(u1, u2);
          const state = HealthSchema.safeParse(health);
          const lease = readLeaseWords(more);
          if (tokens.length < 5 || !endpoint || !units || !state.success || lease === undefined) {
            return malformed(line, '<unit1> <unit2> <host> <port> <health> [lease=<duration> [lapsed]] or END');
          }
          started = true;
          registrations.push({ units, endpoint, health: state.data, ...lease });
          return MORE;
        }
        case 'WATCH': {
          const read = parseWatchLine(line);
          if (!read.ok || read.value.kind === 'change') return malformed(line, 'ENTRY <unit1> <unit2> <host> <port> <health> or SYNCED <epoch> <seq>');
          started = true;
          if (read.value.kind === 'synced') return done({ kind: 'synced', entries: [...entries], position: read.value.position });
          entries.push(read.value.entry);
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

function leaseWords(registration: ListedRegistration): string {
  if (registration.leaseMs === undefined) return '';
  return ` ${formatLease(registration.leaseMs)}${registration.lapsed === true ? ' lapsed' : ''}`;
}

/** The words after a LIST line's health: none, or `lease=<duration>` and perhaps `lapsed`. */
function readLeaseWords(words: readonly string[]): { leaseMs?: number; lapsed?: boolean } | undefined {
  if (words.length === 0) return {};
  const [lease = '', lapsed, ...rest] = words;
  if (rest.length > 0 || !lease.toLowerCase().startsWith(LEASE_PREFIX)) return undefined;
  const ms = parseLease(lease.slice(LEASE_PREFIX.length));
  if (!ms.ok) return undefined;
  if (lapsed === undefined) return { leaseMs: ms.value, lapsed: false };
  return lapsed.toLowerCase() === 'lapsed' ? { leaseMs: ms.value, lapsed: true } : undefined;
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
