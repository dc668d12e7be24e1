import { z } from 'zod';
import { TokenSchema, canonicalHost, parseAmount, parseUnit, quote } from '@conv/protocol';
import { ConverterError } from './errors';
import { LogLevelSchema } from './log';

/**
 * The converter's configuration: one zod schema is the source of truth for every flag's
 * default and type. Input is what yargs hands over, flag values still as typed (strings),
 * so that `08` or `1e3` is judged here and not coerced silently.
 */

const DEFAULTS = {
  host: '127.0.0.1',
  discovery: '127.0.0.1:5555',
  announceInterval: '5s',
  idleTimeout: '30s',
  shutdownTimeout: '2s',
  maxConnections: '256',
  logLevel: 'info',
} as const;

export const CONFIG_DEFAULTS = DEFAULTS;

/** Listen addresses that mean "every interface": never an address others can use. */
const WILDCARD_HOSTS = new Set(['0.0.0.0', '::']);

// Each field schema reports only what was expected; `usageMessage` adds the flag and the input.
const expect = (message: string) => ({ code: 'custom' as const, message });

const portText = (min: 0 | 1) =>
  z.string().transform((text, ctx) => {
    if (/^(0|[1-9][0-9]{0,4})$/.test(text) && Number(text) >= min && Number(text) <= 65535) return Number(text);
    ctx.addIssue(expect(`must be a whole number from ${min} to 65535`));
    return z.NEVER;
  });

// Checked without quoting the value: a secret never appears in an error message.
const tokenText = z.string().refine((text) => TokenSchema.safeParse(text).success, {
  message: 'must be 1 to 256 printable ASCII characters without spaces',
});

const hostText = z.string().transform((text, ctx) => {
  const host = canonicalHost(text.startsWith('[') && text.endsWith(']') ? text.slice(1, -1) : text);
  if (host !== undefined) return host;
  ctx.addIssue(expect('must be an IPv4 address, an IPv6 address or a host name'));
  return z.NEVER;
});

/** `500`, `500ms`, `2s`, `1m`: a duration in milliseconds or with a unit. */
export function parseDuration(text: string): number | undefined {
  const match = /^([0-9]+(?:\.[0-9]+)?)(ms|s|m)?$/.exec(text.trim());
  if (!match) return undefined;
  const scale = match[2] === 'm' ? 60_000 : match[2] === 's' ? 1000 : 1;
  const ms = Math.round(Number(match[1]) * scale);
  return Number.isSafeInteger(ms) ? ms : undefined;
}

const durationText = (min: number) =>
  z.string().transform((text, ctx) => {
    const ms = parseDuration(text);
    if (ms !== undefined && ms >= min && ms <= 2 ** 31 - 1) return ms;
    ctx.addIssue(expect(`must be a duration of at least ${min} ms, such as 500ms, 2s or 1m`));
    return z.NEVER;
  });

const pairText = z.string().transform((text, ctx) => {
  const parts = text.split(':');
  const [a = '', b = ''] = parts;
  if (parts.length === 2 && parseUnit(a).ok && parseUnit(b).ok && a !== b) return [a, b] as const;
  ctx.addIssue(expect('must be two different unit symbols joined by ":", such as ft:in or $:y'));
  return z.NEVER;
});

const decimalText = (what: string, nonZero: boolean) =>
  z.string().transform((text, ctx) => {
    const value = parseAmount(text.trim());
    if (value.ok && (!nonZero || value.value !== 0)) return value.value;
    ctx.addIssue(expect(`must be a ${what} such as 2.54 or 1e-3`));
    return z.NEVER;
  });

/** One `host:port`, or a comma-separated list of discovery replicas (tried in turn). */
const discoveryText = z.string().transform((text, ctx): readonly { host: string; port: number }[] => {
  const list: { host: string; port: number }[] = [];
  for (const item of text.split(',')) {
    const match = /^(?:\[([^\]]+)\]|([^:]+)):([^:]+)$/.exec(item.trim());
    const host = canonicalHost(match?.[1] ?? match?.[2] ?? '');
    const portToken = match?.[3] ?? '';
    if (host === undefined || !/^[1-9][0-9]{0,4}$/.test(portToken) || Number(portToken) > 65535) {
      ctx.addIssue(expect('must be <host>:<port> or a comma-separated list of them, such as 127.0.0.1:5555 or 127.0.0.1:5555,127.0.0.1:5557'));
      return z.NEVER;
    }
    list.push({ host, port: Number(portToken) });
  }
  return list;
});

const countText = z.string().transform((text, ctx) => {
  if (/^[1-9][0-9]{0,6}$/.test(text)) return Number(text);
  ctx.addIssue(expect('must be a whole number from 1 to 9999999'));
  return z.NEVER;
});

const logLevelText = z.string().transform((text, ctx) => {
  const level = LogLevelSchema.safeParse(text);
  if (level.success) return level.data;
  ctx.addIssue(expect(`must be one of ${LogLevelSchema.options.join(', ')}`));
  return z.NEVER;
});

/** The flags as typed. Field names are the flags' names in camelCase. */
export const FlagsSchema = z
  .strictObject({
    port: portText(0),
    pair: pairText,
    factor: decimalText('non-zero decimal number', true).optional(),
    offset: decimalText('decimal number', false).optional(),
    discovery: discoveryText.prefault(DEFAULTS.discovery),
    host: hostText.prefault(DEFAULTS.host),
    advertise: hostText.optional(),
    register: z.boolean().default(true),
    announceInterval: durationText(10).prefault(DEFAULTS.announceInterval),
    idleTimeout: durationText(1).prefault(DEFAULTS.idleTimeout),
    shutdownTimeout: durationText(0).prefault(DEFAULTS.shutdownTimeout),
    maxConnections: countText.prefault(DEFAULTS.maxConnections),
    logLevel: logLevelText.prefault(DEFAULTS.logLevel),
    /** The operator's HTTP port (/metrics, /healthz); off unless given. */
    httpPort: portText(0).optional(),
    /** Shared secret sent with ADD and REMOVE, for a discovery server that requires one. */
    token: tokenText.optional(),
  })
  .transform((flags, ctx) => {
    if (flags.offset !== undefined && flags.factor === undefined) {
      ctx.addIssue({ ...expect('needs --factor too (b = a * factor + offset)'), path: ['offset'] });
      return z.NEVER;
    }
    if (flags.advertise !== undefined && WILDCARD_HOSTS.has(flags.advertise)) {
      ctx.addIssue({ ...expect('must be an address others can connect to, not a wildcard'), path: ['advertise'] });
      return z.NEVER;
    }
    // A wildcard listen address says nothing about how others reach us: refuse to guess.
    if (flags.register && flags.advertise === undefined && WILDCARD_HOSTS.has(flags.host)) {
      ctx.addIssue({
        ...expect(`is a wildcard; give --advertise <host>, the address other servers should use (or --no-register)`),
        path: ['host'],
      });
      return z.NEVER;
    }
    const { announceInterval, idleTimeout, shutdownTimeout, maxConnections, logLevel, ...rest } = flags;
    return {
      ...rest,
      advertise: flags.advertise ?? flags.host,
      announceIntervalMs: announceInterval,
      idleTimeoutMs: idleTimeout,
      shutdownTimeoutMs: shutdownTimeout,
      maxConnections,
      logLevel,
    };
  });

export type Flags = z.input<typeof FlagsSchema>;
export type Config = Readonly<z.output<typeof FlagsSchema>>;

/** Validates flags as typed; throws ConverterError USAGE with one line naming the flag. */
export function validateConfig(flags: unknown): Config {
  const parsed = FlagsSchema.safeParse(flags);
  if (parsed.success) return Object.freeze({ ...parsed.data, discovery: Object.freeze(parsed.data.discovery.map((d) => Object.freeze(d))) });
  const [issue] = parsed.error.issues;
  throw new ConverterError('USAGE', usageMessage(issue, flags));
}

function usageMessage(issue: z.core.$ZodIssue | undefined, flags: unknown): string {
  if (!issue) return 'converter: invalid flags (see --help)';
  const key = String(issue.path[0] ?? '');
  if (issue.code === 'unrecognized_keys') return `converter: unknown flag --${kebab(issue.keys[0] ?? '')} (see --help)`;
  const input = typeof flags === 'object' && flags !== null ? (flags as Record<string, unknown>)[key] : undefined;
  if (key === 'port' && input === undefined) return 'converter: a port is required: converter <port> --pair <a>:<b> (see --help)';
  if (key === 'pair' && input === undefined) return 'converter: --pair is required, such as --pair ft:in (see --help)';
  const got = typeof input === 'string' ? `, got ${quote(input)}` : input === undefined ? '' : `, got ${quote(JSON.stringify(input))}`;
  const message = issue.code === 'custom' ? issue.message : `must be ${issue.message}`;
  return `converter: --${kebab(key)} ${message}${got}`;
}

function kebab(key: string): string {
  return key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
}

/** `127.0.0.1:5555`, `[::1]:5555`: an address as printed in banners and logs. */
export function formatAddress(host: string, port: number): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}
