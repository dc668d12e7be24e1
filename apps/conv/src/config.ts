import { z } from 'zod';
import { parseAddress } from './address';
import { COURSE_PAIRS, type CoursePair } from './system';

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
    /** Spawn-to-banner limit for each process on an idle machine; `conv up` stretches it by the load. */
    startTimeout: z.coerce.number().int('--start-timeout must be a whole number of milliseconds').positive('--start-timeout must be a positive number of milliseconds').default(15_000),
    /** Processes starting at once, at most; default 4 per core. */
    startConcurrency: z.coerce.number().int('--start-concurrency must be a whole number from 1 to 64').min(1, '--start-concurrency must be a whole number from 1 to 64').max(64, '--start-concurrency must be a whole number from 1 to 64').optional(),
    /** How long, without one more converter turning healthy, before `conv up` stops waiting; stretched by the load too. */
    readyTimeout: z.coerce.number().int('--ready-timeout must be a whole number of milliseconds').positive('--ready-timeout must be a positive number of milliseconds').default(30_000),
    /** A subset of the course's pairs (`ft:in,in:cm`), for a smaller system; default all eleven. */
    pairs: z
      .string()
      .optional()
      .transform((text, ctx) => {
        if (text === undefined) return COURSE_PAIRS;
        const chosen = parsePairs(text);
        if (typeof chosen !== 'string') return chosen;
        ctx.addIssue({ code: 'custom', message: chosen });
        return z.NEVER;
      }),
    /** `etcd://host:port[,...]`: discovery keeps the registry in etcd (instead of data/discovery.db). */
    store: z
      .string()
      .regex(/^etcd:\/\/\S+$/, '--store must be etcd://host:port[,host:port...], e.g. etcd://127.0.0.1:2379')
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

/** `ft:in,in:cm` as course pairs (either order of a pair's units), or what is wrong with it. */
export function parsePairs(text: string): readonly CoursePair[] | string {
  const words = text.split(',').map((word) => word.trim()).filter((word) => word !== '');
  const known = COURSE_PAIRS.map(([a, b]) => `${a}:${b}`).join(',');
  if (words.length === 0) return `--pairs must name at least one of the course's pairs: ${known}`;
  const chosen: CoursePair[] = [];
  for (const word of words) {
    const [a, b, extra] = word.split(':');
    const pair = extra === undefined ? COURSE_PAIRS.find(([x, y]) => (x === a && y === b) || (x === b && y === a)) : undefined;
    if (!pair) return `--pairs: ${JSON.stringify(word)} is not one of the course's pairs: ${known}`;
    if (!chosen.includes(pair)) chosen.push(pair);
  }
  return chosen;
}

/** The first problem with the flags, as one line for the terminal. */
export function describeFlagError(error: z.ZodError): string {
  const issue = error.issues[0];
  return issue ? issue.message : 'invalid flags';
}
