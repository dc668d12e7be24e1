import { TokenSchema, canonicalHost } from '@conv/protocol';
import { z } from 'zod';
import { LOG_LEVELS } from '@conv/observability';

/** `500`, `500ms`, `2s`, `1m`, `1h` -> milliseconds; undefined when the text is not a duration. */
export function parseDuration(text: string): number | undefined {
  const match = /^(\d+(?:\.\d+)?)(ms|s|m|h)?$/.exec(text.trim());
  if (!match) return undefined;
  const scale = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[match[2] ?? 'ms'] ?? 1;
  const ms = Math.round(Number(match[1]) * scale);
  return Number.isSafeInteger(ms) ? ms : undefined;
}

/** `host:port` or `[v6]:port` -> endpoint; undefined when malformed. */
export function parseHostPort(text: string): { host: string; port: number } | undefined {
  const match = /^(?:\[([^\]]+)\]|([^:]+)):(\d{1,5})$/.exec(text.trim());
  if (!match) return undefined;
  const host = canonicalHost(match[1] ?? match[2] ?? '');
  const port = Number(match[3]);
  if (host === undefined || !Number.isInteger(port) || port < 1 || port > 65535) return undefined;
  return { host, port };
}

/** How an address is written in banners and logs: IPv6 in brackets. */
export function formatAddress(address: { host: string; port: number }): string {
  return address.host.includes(':') ? `[${address.host}]:${address.port}` : `${address.host}:${address.port}`;
}

const wholeNumber = (flag: string, min: number, max: number) =>
  z
    .string()
    .regex(/^\d+$/, { message: `${flag} must be a whole number from ${min} to ${max}` })
    .transform(Number)
    .refine((n) => n >= min && n <= max, { message: `${flag} must be a whole number from ${min} to ${max}` });

const duration = (flag: string) =>
  z
    .string()
    .transform((text, ctx) => {
      const ms = parseDuration(text);
      if (ms === undefined || ms <= 0) {
        ctx.addIssue({ code: 'custom', message: `${flag} must be a positive duration such as 500ms, 2s or 1m` });
        return z.NEVER;
      }
      return ms;
    });

/**
 * The proxy's settings as typed on the command line (all strings), validated and given their
 * defaults. The single source of truth for flag defaults and types.
 */
export const ConfigSchema = z
  .object({
    port: wholeNumber('--port', 0, 65535).default(5556),
    host: z
      .string()
      .transform((text, ctx) => {
        const host = canonicalHost(text);
        if (host === undefined) {
          ctx.addIssue({ code: 'custom', message: '--host must be an IPv4 address, an IPv6 address or a host name' });
          return z.NEVER;
        }
        return host;
      })
      .default('127.0.0.1'),
    /** One discovery server, or several replicas sharing one registry (comma-separated), tried in turn. */
    discovery: z
      .string()
      .transform((text, ctx): readonly { host: string; port: number }[] => {
        const endpoints = text.split(',').map(parseHostPort);
        if (endpoints.some((endpoint) => endpoint === undefined)) {
          ctx.addIssue({ code: 'custom', message: '--discovery must be host:port or a comma-separated list of them, e.g. 127.0.0.1:5555 or 127.0.0.1:5555,127.0.0.1:5557' });
          return z.NEVER;
        }
        return endpoints.filter((endpoint) => endpoint !== undefined);
      })
      .default([{ host: '127.0.0.1', port: 5555 }]),
    hopTimeoutMs: duration('--hop-timeout').default(1000),
    pathTtlMs: duration('--path-ttl').default(2000),
    staleTtlMs: duration('--stale-ttl').default(300_000),
    failedTtlMs: duration('--failed-ttl').default(3000),
    maxConnections: wholeNumber('--max-connections', 1, 1_000_000).default(1024),
    idleTimeoutMs: duration('--idle-timeout').default(30_000),
    logLevel: z.enum(LOG_LEVELS, { message: `--log-level must be one of ${LOG_LEVELS.join(', ')}` }).default('info'),
    /** The operator's HTTP port (/metrics, /healthz); off unless given. */
    httpPort: wholeNumber('--http-port', 0, 65535).optional(),
    /** Shared secret sent with REMOVE reports, for a discovery server started with --token. */
    token: z
      .string()
      .refine((text) => TokenSchema.safeParse(text).success, {
        message: '--token must be 1 to 256 printable ASCII characters without spaces',
      })
      .optional(),
  })
  .strict();

export type ConfigInput = z.input<typeof ConfigSchema>;
export type Config = Readonly<z.output<typeof ConfigSchema>>;

/** The flag each config key comes from, for one-line usage errors. */
export const FLAG_OF: Readonly<Record<keyof Config, string>> = {
  port: '--port',
  host: '--host',
  discovery: '--discovery',
  hopTimeoutMs: '--hop-timeout',
  pathTtlMs: '--path-ttl',
  staleTtlMs: '--stale-ttl',
  failedTtlMs: '--failed-ttl',
  maxConnections: '--max-connections',
  idleTimeoutMs: '--idle-timeout',
  logLevel: '--log-level',
  httpPort: '--http-port',
  token: '--token',
};

export type ConfigResult = { ok: true; config: Config } | { ok: false; message: string };

/** Validates raw flag values; the message names the flag, what is expected and what was given. */
export function validateConfig(input: ConfigInput): ConfigResult {
  const parsed = ConfigSchema.safeParse(input);
  if (parsed.success) {
    const config = parsed.data;
    return { ok: true, config: Object.freeze({ ...config, discovery: Object.freeze(config.discovery.map((endpoint) => Object.freeze({ ...endpoint }))) }) };
  }
  const [issue] = parsed.error.issues;
  const key = issue?.path[0];
  const given = typeof key === 'string' ? (input as Record<string, unknown>)[key] : undefined;
  const flag = typeof key === 'string' && key in FLAG_OF ? FLAG_OF[key as keyof Config] : String(key);
  const message = issue?.message.startsWith('--') ? issue.message : `${flag}: ${issue?.message ?? 'invalid'}`;
  return { ok: false, message: given === undefined ? message : `${message}, got ${JSON.stringify(given)}` };
}
