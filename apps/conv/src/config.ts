import { z } from 'zod';
import { parseAddress } from './address';

const port = (what: string) =>
  z.coerce
    .number({ error: `${what} must be a whole number from 0 to 65535` })
    .int(`${what} must be a whole number from 0 to 65535`)
    .min(0, `${what} must be a whole number from 0 to 65535`)
    .max(65535, `${what} must be a whole number from 0 to 65535`);

const address = (what: string) =>
  z.string().transform((text, ctx) => {
    const parsed = parseAddress(text);
    if (parsed.ok) return parsed.value;
    ctx.addIssue({ code: 'custom', message: `${what} must be host:port, e.g. 127.0.0.1:5556; got ${JSON.stringify(text)}` });
    return z.NEVER;
  });

/** `etcd://` and one or more `host:port` (IPv6 as `[::1]:2379`), comma-separated. */
const STORE_URL = /^etcd:\/\/(?:\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]+):\d{1,5}(?:,(?:\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]+):\d{1,5})*$/;

export const AskConfigSchema = z
  .object({
    query: z.array(z.string()).default([]),
    proxy: address('--proxy').default({ host: '127.0.0.1', port: 5556 }),
    timeout: z.coerce.number().int().positive('--timeout must be a positive number of milliseconds').default(5000),
    path: z.boolean().default(false),
  })
  .readonly();
export type AskConfig = z.infer<typeof AskConfigSchema>;

export const StatusConfigSchema = z
  .object({
    http: address('--http').default({ host: '127.0.0.1', port: 5580 }),
    json: z.boolean().default(false),
    timeout: z.coerce.number().int().positive('--timeout must be a positive number of milliseconds').default(5000),
  })
  .readonly();
export type StatusConfig = z.infer<typeof StatusConfigSchema>;

export const UpConfigSchema = z
  .object({
    host: z.string().default('127.0.0.1'),
    discoveryPort: port('--discovery-port').default(5555),
    /** Discovery's status page and metrics; the proxy takes the next port. Default --discovery-port + 25 (5580), 0 with port 0. */
    httpPort: port('--http-port').optional(),
    proxyPort: port('--proxy-port').default(5556),
    converterPort: port('--converter-port').default(6001),
    replicas: z.coerce.number().int().min(1, '--replicas must be at least 1').max(10, '--replicas must be at most 10').default(2),
    dataDir: z.string().min(1),
    checkInterval: z.string().regex(/^\d+(ms|s|m)?$/, '--check-interval must be a duration such as 500ms or 2s').default('1s'),
    restart: z.boolean().default(true),
    logLevel: z.enum(['error', 'warn', 'info', 'debug']).default('info'),
    readyTimeout: z.coerce.number().int().positive().default(30_000),
    /** `etcd://host:port[,...]`: discovery keeps the registry in etcd (instead of data/discovery.db), one member or several. */
    store: z
      .string()
      .refine((url) => STORE_URL.test(url), '--store must be etcd://host:port[,host:port...], e.g. etcd://127.0.0.1:2379 (or the list `conv etcd --members 3` prints)')
      .optional(),
    discoveryReplicas: z.coerce
      .number()
      .int('--discovery-replicas must be a whole number from 1 to 5')
      .min(1, '--discovery-replicas must be a whole number from 1 to 5')
      .max(5, '--discovery-replicas must be a whole number from 1 to 5')
      .default(1),
  })
  .refine((c) => c.discoveryReplicas === 1 || c.store !== undefined, {
    message: '--discovery-replicas above 1 needs --store etcd://...: replicas share their registry through etcd',
  })
  .readonly();
export type UpConfig = z.infer<typeof UpConfigSchema>;

export const EtcdConfigSchema = z
  .object({
    /** An odd count: a cluster of n tolerates the loss of (n - 1) / 2 members; an even one adds nothing. */
    members: z.coerce
      .number()
      .refine((n) => n === 1 || n === 3 || n === 5, '--members must be 1, 3 or 5 (an odd number: a majority must survive)')
      .default(1),
    /** First member's client port (the others: + 2, + 4); 0 = any free ports (tests). */
    port: port('--port').default(2379),
    /** First member's peer port (the others: + 2, + 4); ignored with --port 0. */
    peerPort: port('--peer-port').default(2380),
    dataDir: z.string().min(1),
    readyTimeout: z.coerce.number().int().positive('--ready-timeout must be a positive number of milliseconds').default(30_000),
  })
  .refine((c) => c.port === 0 || (c.port >= 1 && c.peerPort >= 1), { message: '--port and --peer-port must be whole numbers from 1 to 65535 (or --port 0)' })
  .refine((c) => c.port === 0 || Math.abs(c.port - c.peerPort) % 2 === 1 || Math.abs(c.port - c.peerPort) >= 2 * c.members, {
    message: '--port and --peer-port overlap: member i takes --port + 2i and --peer-port + 2i',
  })
  .readonly();
export type EtcdConfig = z.infer<typeof EtcdConfigSchema>;

/** The first problem with the flags, as one line for the terminal. */
export function describeFlagError(error: z.ZodError): string {
  const issue = error.issues[0];
  return issue ? issue.message : 'invalid flags';
}
