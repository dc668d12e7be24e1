import { z } from 'zod';
import { UnitsSchema } from './discovery-request';
import { type Result, fail, ok } from './failures';
import { HealthSchema } from './health';
import { quote } from './quote';
import { EndpointSchema, parseHost, parsePort, parseUnit, tokenize } from './tokens';
import { WatchPositionSchema, type WatchPosition, parseEpoch, parseWatchSeq } from './watch-position';

/** One registration of a watch's snapshot: `ENTRY <unit1> <unit2> <host> <port> <health>`. */
export const WatchEntrySchema = z.object({ units: UnitsSchema, endpoint: EndpointSchema, health: HealthSchema });
export type WatchEntry = z.infer<typeof WatchEntrySchema>;

export const ChangeKindSchema = z.enum(['added', 'removed', 'health']);
export type ChangeKind = z.infer<typeof ChangeKindSchema>;

/**
 * One change pushed to a watcher:
 * `CHANGE <epoch> <seq> <added|removed|health> <unit1> <unit2> <host> <port> <health>`; the
 * health is the registration's after the change (for `removed`, the one it had).
 */
export const WatchChangeSchema = WatchPositionSchema.extend({ kind: ChangeKindSchema, units: UnitsSchema, endpoint: EndpointSchema, health: HealthSchema });
export type WatchChange = z.infer<typeof WatchChangeSchema>;

/** A line a watcher reads besides its replies. */
export type WatchLine = { kind: 'entry'; entry: WatchEntry } | { kind: 'synced'; position: WatchPosition } | { kind: 'change'; change: WatchChange };

export function formatWatchEntry(entry: WatchEntry): string {
  return `ENTRY ${entry.units[0]} ${entry.units[1]} ${entry.endpoint.host} ${entry.endpoint.port} ${entry.health}\n`;
}

export function formatSynced(position: WatchPosition): string {
  return `SYNCED ${position.epoch} ${position.seq}\n`;
}

export function formatWatchChange(change: WatchChange): string {
  return `CHANGE ${change.epoch} ${change.seq} ${change.kind} ${change.units[0]} ${change.units[1]} ${change.endpoint.host} ${change.endpoint.port} ${change.health}\n`;
}

/** Whether a line is pushed by a watch rather than part of a reply: its first word is CHANGE. */
export function isChangeLine(line: string): boolean {
  return /^[ \t]*CHANGE[ \t]/i.test(line);
}

/** Reads an ENTRY, SYNCED or CHANGE line (first word case-insensitive); anything else fails. */
export function parseWatchLine(line: string): Result<WatchLine> {
  const [word = '', ...args] = tokenize(line);
  switch (word.toUpperCase()) {
    case 'ENTRY': {
      if (args.length !== 5) return malformed(line);
      const registration = readRegistration(args);
      return registration.ok ? ok({ kind: 'entry', entry: registration.value }) : registration;
    }
    case 'SYNCED': {
      if (args.length !== 2) return malformed(line);
      const position = readPosition(args[0] ?? '', args[1] ?? '');
      return position.ok ? ok({ kind: 'synced', position: position.value }) : position;
    }
    case 'CHANGE': {
      if (args.length !== 8) return malformed(line);
      const position = readPosition(args[0] ?? '', args[1] ?? '');
      if (!position.ok) return position;
      const kind = ChangeKindSchema.safeParse((args[2] ?? '').toLowerCase());
      if (!kind.success) return fail('UNSPECIFIED', `${quote(args[2] ?? '')} is not a change kind: added, removed or health.`);
      const registration = readRegistration(args.slice(3));
      if (!registration.ok) return registration;
      return ok({ kind: 'change', change: { ...position.value, kind: kind.data, ...registration.value } });
    }
    default:
      return malformed(line);
  }
}

function readPosition(epoch: string, seq: string): Result<WatchPosition> {
  const e = parseEpoch(epoch);
  if (!e.ok) return e;
  const s = parseWatchSeq(seq);
  if (!s.ok) return s;
  return ok({ epoch: e.value, seq: s.value });
}

function readRegistration([u1 = '', u2 = '', host = '', port = '', health = '']: readonly string[]): Result<WatchEntry> {
  for (const unit of [u1, u2]) {
    const parsed = parseUnit(unit);
    if (!parsed.ok) return parsed;
  }
  const h = parseHost(host);
  if (!h.ok) return h;
  const p = parsePort(port);
  if (!p.ok) return p;
  const state = HealthSchema.safeParse(health.toLowerCase());
  if (!state.success) return fail('UNSPECIFIED', `${quote(health)} is not a health: pending, up, down or wrong.`);
  return ok({ units: [u1, u2], endpoint: { host: h.value, port: p.value }, health: state.data });
}

function malformed(line: string): Result<never> {
  return fail('UNSPECIFIED', `the line ${quote(line)} is not ENTRY <unit1> <unit2> <host> <port> <health>, SYNCED <epoch> <seq> or CHANGE <epoch> <seq> <kind> <unit1> <unit2> <host> <port> <health>.`);
}
