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

export const AskConfigSchema = z
  .object({
    query: z.array(z.string()).default([]),
    proxy: address('--proxy').default({ host: '127.0.0.1', port: 5556 }),
    timeout: z.coerce.number().int().positive('--timeout must be a positive number of milliseconds').default(5000),
  })
  .readonly();
export type AskConfig = z.infer<typeof AskConfigSchema>;

export const UpConfigSchema = z
  .object({
    host: z.string().default('127.0.0.1'),
    discoveryPort: port('--discovery-port').default(5555),
    proxyPort: port('--proxy-port').default(5556),
    converterPort: port('--converter-port').default(6001),
    replicas: z.coerce.number().int().min(1, '--replicas must be at least 1').max(10, '--replicas must be at most 10').default(2),
    dataDir: z.string().min(1),
    checkInterval: z.string().regex(/^\d+(ms|s|m)?$/, '--check-interval must be a duration such as 500ms or 2s').default('1s'),
    restart: z.boolean().default(true),
    logLevel: z.enum(['error', 'warn', 'info', 'debug']).default('info'),
    readyTimeout: z.coerce.number().int().positive().default(30_000),
  })
  .readonly();
export type UpConfig = z.infer<typeof UpConfigSchema>;

/** The first problem with the flags, as one line for the terminal. */
export function describeFlagError(error: z.ZodError): string {
  const issue = error.issues[0];
  return issue ? issue.message : 'invalid flags';
}
