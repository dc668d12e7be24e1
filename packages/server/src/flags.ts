import {
  type Endpoint,
  TokenSchema,
  canonicalHost,
  parseAddress,
  parseAddressList,
} from '@conv/protocol';
import { z } from 'zod';
import { formatDuration, parseDuration } from '@conv/protocol';
import { ServerError } from './errors';
import { LOG_LEVELS } from './log';

/**
 * Zod schemas for the flags every server shares, one wording for every app. Input is what the
 * command line hands over (strings as typed, so `08` or `1e3` is judged here, not coerced) or
 * what a program passes (numbers, booleans). Each issue says only what was expected;
 * `validateFlags` adds the flag's name and what was given.
 */
const typed = z.union([z.string(), z.number()]);
const must = (ctx: z.core.$RefinementCtx, expected: string): never => {
  ctx.addIssue({ code: 'custom', message: `must be ${expected}` });
  return z.NEVER;
};

function wholeNumber(min: number, max: number) {
  return typed.transform((value, ctx) => {
    const text = String(value).trim();
    const n = Number(text);
    if (/^(0|[1-9][0-9]*)$/.test(text) && n >= min && n <= max) return n;
    return must(ctx, `a whole number from ${min} to ${max}`);
  });
}

/** A port to listen on (0: any free port) or, with `min: 1`, to connect to. */
export const portFlag = (options: { min?: 0 | 1 } = {}) => wholeNumber(options.min ?? 0, 65535);

export const countFlag = (min: number, max: number) => wholeNumber(min, max);

/**
 * A duration in milliseconds (see parseDuration). With `zeroTurnsOff`, `0` is allowed and
 * means "never" or "off"; otherwise the value must be at least `min` (default 1 ms).
 */
export function durationFlag(options: { min?: number; zeroTurnsOff?: boolean } = {}) {
  const min = Math.max(1, options.min ?? 1);
  const expected = `a duration such as 500ms, 2s or 1m${options.zeroTurnsOff ? ' (0 turns it off)' : min > 1 ? `, at least ${formatDuration(min)}` : ', above 0'}`;
  return typed.transform((value, ctx) => {
    const ms = parseDuration(String(value));
    if (ms !== undefined && (ms >= min || (ms === 0 && options.zeroTurnsOff === true))) return ms;
    return must(ctx, expected);
  });
}

/** An address to listen on: canonical IPv4, IPv6 (`::1` or `[::1]`) or a host name. */
export const hostFlag = () =>
  z.string().transform((text, ctx) => {
    const trimmed = text.trim();
    const host = canonicalHost(trimmed.startsWith('[') && trimmed.endsWith(']') ? trimmed.slice(1, -1) : trimmed);
    return host ?? must(ctx, 'an IPv4 address, an IPv6 address or a host name');
  });

/** One `host:port` (IPv6 as `[::1]:5556`). */
export const addressFlag = () =>
  z.string().transform((text, ctx): Endpoint => {
    const address = parseAddress(text);
    return address.ok ? address.value : must(ctx, '<host>:<port>, such as 127.0.0.1:5556 or [::1]:5556');
  });

/** `host:port`, or replicas as `host:port,host:port`. */
export const endpointsFlag = () =>
  z.string().transform((text, ctx): readonly Endpoint[] => {
    const list = parseAddressList(text);
    return list.ok ? list.value : must(ctx, '<host>:<port> or a comma-separated list of them, such as 127.0.0.1:5555 or 127.0.0.1:5555,127.0.0.1:5557');
  });

export const logLevelFlag = () =>
  z.string().transform((text, ctx) => {
    const level = LOG_LEVELS.find((name) => name === text);
    return level ?? must(ctx, `one of ${LOG_LEVELS.join(', ')}`);
  });

/** A shared secret; the issue never quotes it (see validateFlags). */
export const tokenFlag = () =>
  z.string().refine((text) => TokenSchema.safeParse(text).success, { message: 'must be 1 to 256 printable ASCII characters without spaces' });

/** Free text that must not be empty: a file path, say. */
export const textFlag = (what: string) => z.string().refine((text) => text.trim() !== '', { message: `must be ${what}` });

/** A flag without a value (`--greeting`, `--no-register`). */
export const switchFlag = () => z.boolean({ error: 'takes no value' });

/** `checkIntervalMs` -> `--check-interval`; config keys name durations with `Ms`, flags do not. */
export function flagName(key: string): string {
  return `--${key.replace(/Ms$/, '').replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`;
}

/** Flags whose value is never repeated back (a secret). */
const SECRET_FLAGS = new Set(['token']);

/**
 * Validates flags into a frozen config, or throws ServerError USAGE with one line that names
 * the flag, what it expects and what was given: `--port must be a whole number from 0 to
 * 65535, got "x"`. A strict schema refuses keys it does not know.
 */
export function validateFlags<S extends z.ZodType>(schema: S, input: Readonly<Record<string, unknown>>): Readonly<z.output<S>> {
  const parsed = schema.safeParse(input);
  if (parsed.success) return deepFreeze(parsed.data);
  const issue = parsed.error.issues[0];
  if (issue?.code === 'unrecognized_keys') throw new ServerError('USAGE', `unknown option ${issue.keys.map(flagName).join(', ')}; see --help`);
  const key = String(issue?.path[0] ?? '');
  const given = input[key];
  const shown = given === undefined || SECRET_FLAGS.has(key) ? '' : `, got ${JSON.stringify(typeof given === 'string' ? given : JSON.stringify(given))}`;
  const message = issue?.message.startsWith('must') || issue?.message.startsWith('is') || issue?.message.startsWith('needs') || issue?.message.startsWith('takes') ? issue.message : `must be ${issue?.message ?? 'valid'}`;
  throw new ServerError('USAGE', `${key === '' ? 'the flags' : flagName(key)} ${message}${shown}`);
}

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    for (const inner of Object.values(value)) deepFreeze(inner);
    Object.freeze(value);
  }
  return value;
}
