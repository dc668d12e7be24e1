import { TokenSchema } from '@conv/protocol';
import { z } from 'zod';
import { DiscoveryError } from './errors';
import { LOG_LEVELS } from '@conv/observability';

/** Every default in one place; the CLI's help text reads them from here. */
export const DEFAULTS = Object.freeze({
  port: 5555,
  host: '127.0.0.1',
  db: 'discovery.db',
  checkInterval: 2_000,
  checkTimeout: 1_000,
  checkConcurrency: 64,
  maxProbeRate: 500,
  failThreshold: 2,
  passThreshold: 2,
  downGrace: 60_000,
  pendingGrace: 60_000,
  trustRegistrations: false,
  greeting: false,
  maxConnections: 1024,
  idleTimeout: 60_000,
  maxLineBytes: 4096,
  logLevel: 'info' as const,
  /** Off unless given: the operator's HTTP port (metrics, health, status page). */
  httpPort: undefined,
  /** With --store etcd://...: each registration's lease, 3 x the converters' default announce interval. */
  leaseTtl: 15_000,
  /** With --store etcd://...: the deadline of one call to etcd (an ADD answers UNAVAILABLE after about this long). */
  etcdTimeout: 2_000,
});

/** `etcd://127.0.0.1:2379[,127.0.0.1:22379...]` -> the members' `host:port`. */
const storeUrl = z.string().transform((value, ctx) => {
  const match = /^etcd:\/\/(.+)$/.exec(value.trim());
  const members = match?.[1]?.split(',') ?? [];
  const member = /^(?:\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]+):([0-9]{1,5})$/;
  if (members.length > 0 && members.every((m) => member.test(m) && Number(member.exec(m)?.[1]) >= 1 && Number(member.exec(m)?.[1]) <= 65535)) {
    return { kind: 'etcd' as const, endpoints: members };
  }
  ctx.addIssue({ code: 'custom', message: `must be etcd://<host>:<port>[,<host>:<port>...], such as etcd://127.0.0.1:2379, ${got(value)}` });
  return z.NEVER;
});

const MAX_DURATION_MS = 24 * 60 * 60 * 1000;
const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** `1500`, `500ms`, `2s`, `1.5s`, `1m`, `1h` -> milliseconds; undefined when it is none of those. */
export function parseDuration(text: string): number | undefined {
  const match = /^(\d+(?:\.\d+)?)(ms|s|m|h)?$/.exec(text.trim());
  if (!match) return undefined;
  const ms = Math.round(Number(match[1]) * (UNIT_MS[match[2] ?? 'ms'] ?? 1));
  return Number.isFinite(ms) && ms <= MAX_DURATION_MS ? ms : undefined;
}

const raw = z.union([z.string(), z.number()]);
const got = (value: unknown) => `got ${JSON.stringify(String(value))}`;

function wholeNumber(min: number, max: number) {
  return raw.transform((value, ctx) => {
    const text = String(value).trim();
    const n = Number(text);
    if (/^\d+$/.test(text) && n >= min && n <= max) return n;
    ctx.addIssue({ code: 'custom', message: `must be a whole number from ${min} to ${max}, ${got(value)}` });
    return z.NEVER;
  });
}

function duration(options: { allowZero: boolean }) {
  const expected = `a duration such as 500ms, 2s or 1m${options.allowZero ? ' (0 turns it off)' : ', above 0'}`;
  return raw.transform((value, ctx) => {
    const ms = parseDuration(String(value));
    if (ms !== undefined && (ms > 0 || options.allowZero)) return ms;
    ctx.addIssue({ code: 'custom', message: `must be ${expected}, ${got(value)}` });
    return z.NEVER;
  });
}

const text = (what: string) =>
  z.string({ error: (issue) => `must be ${what}, ${got(issue.input)}` }).refine((s) => s.trim() !== '', {
    message: `must be ${what}, got an empty string`,
  });

const flag = z.boolean({ error: (issue) => `takes no value, ${got(issue.input)}` });

/** The validated configuration of one discovery process; the single source of truth for types. */
export const ConfigSchema = z.strictObject({
  port: wholeNumber(0, 65535).default(DEFAULTS.port),
  host: text('an address to listen on, such as 127.0.0.1 or ::1').default(DEFAULTS.host),
  db: text("a file path or ':memory:'").default(DEFAULTS.db),
  checkInterval: duration({ allowZero: true }).default(DEFAULTS.checkInterval),
  checkTimeout: duration({ allowZero: false }).default(DEFAULTS.checkTimeout),
  checkConcurrency: wholeNumber(1, 10_000).default(DEFAULTS.checkConcurrency),
  maxProbeRate: wholeNumber(0, 1_000_000).default(DEFAULTS.maxProbeRate),
  failThreshold: wholeNumber(1, 1000).default(DEFAULTS.failThreshold),
  passThreshold: wholeNumber(1, 1000).default(DEFAULTS.passThreshold),
  downGrace: duration({ allowZero: true }).default(DEFAULTS.downGrace),
  pendingGrace: duration({ allowZero: true }).default(DEFAULTS.pendingGrace),
  trustRegistrations: flag.default(DEFAULTS.trustRegistrations),
  /** Shared secret that ADD and REMOVE must carry; none by default. Never logged or echoed. */
  token: TokenSchema.optional().refine((t) => t === undefined || TokenSchema.safeParse(t).success, {
    message: 'must be 1 to 256 printable ASCII characters without spaces',
  }),
  greeting: flag.default(DEFAULTS.greeting),
  maxConnections: wholeNumber(1, 1_000_000).default(DEFAULTS.maxConnections),
  idleTimeout: duration({ allowZero: true }).default(DEFAULTS.idleTimeout),
  maxLineBytes: wholeNumber(64, 1 << 20).default(DEFAULTS.maxLineBytes),
  httpPort: wholeNumber(0, 65535).optional(),
  /** A shared registry in etcd instead of the SQLite file (`--db`); the two are exclusive. */
  store: storeUrl.optional(),
  leaseTtl: duration({ allowZero: false })
    .refine((ms) => ms >= 1000, { message: 'must be at least 1s (etcd leases count whole seconds)' })
    .default(DEFAULTS.leaseTtl),
  etcdTimeout: duration({ allowZero: false }).default(DEFAULTS.etcdTimeout),
  logLevel: z
    .enum(LOG_LEVELS, { error: (issue) => `must be one of ${LOG_LEVELS.join(', ')}, ${got(issue.input)}` })
    .default(DEFAULTS.logLevel),
});

export type Config = Readonly<z.output<typeof ConfigSchema>>;
export type ConfigInput = z.input<typeof ConfigSchema>;

/** `checkInterval` -> `--check-interval`, for messages that name the flag the user typed. */
export function flagName(key: string): string {
  return `--${key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`;
}

/**
 * Validates flags (strings as typed, numbers, booleans) into a frozen Config. Throws a USAGE
 * DiscoveryError whose message is one line naming the first bad flag.
 */
export function validateConfig(input: unknown): Config {
  const given = typeof input === 'object' && input !== null ? (input as Record<string, unknown>) : {};
  if (given.store !== undefined && given.db !== undefined) {
    throw new DiscoveryError('USAGE', '--store and --db are exclusive: the registry is either in etcd or in a SQLite file');
  }
  const parsed = ConfigSchema.safeParse(input);
  if (parsed.success) return Object.freeze(parsed.data);
  const issue = parsed.error.issues[0];
  if (issue?.code === 'unrecognized_keys') {
    throw new DiscoveryError('USAGE', `unknown option ${issue.keys.map(flagName).join(', ')}`);
  }
  const key = String(issue?.path[0] ?? 'arguments');
  throw new DiscoveryError('USAGE', `${flagName(key)} ${issue?.message ?? 'is invalid'}`);
}
