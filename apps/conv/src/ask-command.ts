import { type Result, formatAmount, formatFailure } from '@conv/protocol';
import { ServerError, durationFlag, addressFlag, switchFlag, validateFlags } from '@conv/server';
import { z } from 'zod';
import { version } from '../package.json';
import { defineCommand } from './command';
import { ask, askTraced, formatHops, parseQuery } from './query';

const AskConfigSchema = z.strictObject({
  query: z.array(z.string()),
  proxy: addressFlag().default({ host: '127.0.0.1', port: 5556 }),
  timeoutMs: durationFlag().default(5000),
  path: switchFlag().default(false),
});

/** `conv <amount> <from> <to>` (or the course's `conv "<from> <to> <amount>"`): ask the proxy. */
export const askCommand = defineCommand({
  spec: {
    name: 'conv',
    version,
    usage: `conv <amount> <from> <to>     ask the proxy (also: conv "<from> <to> <amount>"; a negative amount after --)
conv up                       run the whole system on loopback
conv status [--json]          pools, endpoints, health and the unit graph (from the status page)
conv chaos [--duration 60s]   kill, stop and restart servers under load; check every answer
conv etcd                     a local etcd for conv up --store etcd://127.0.0.1:2379
conv <command> --help         the flags of a command`,
    positionals: ['amount', 'from', 'to'],
    flags: {
      proxy: { describe: 'the proxy, host:port', default: '127.0.0.1:5556' },
      timeout: { type: 'duration', describe: 'how long to wait for the answer', default: '5s' },
      path: { type: 'boolean', describe: 'also print each conversion the proxy made, and which server answered it' },
    },
  },
  read(line) {
    const config = validateFlags(AskConfigSchema, { ...line.flags, query: [...line.positionals] });
    const request = parseQuery(config.query);
    if (!request.ok) throw new ServerError('USAGE', request.failure.message);
    return { ...config, request: request.value };
  },
  async run(config, out) {
    const { proxy, timeoutMs, request } = config;
    let answer: Result<number>;
    if (config.path) {
      const traced = await askTraced(proxy, request, timeoutMs);
      if (traced.ok) for (const line of formatHops(traced.value.hops)) out.say(line);
      answer = traced.ok ? traced.value.answer : traced;
    } else {
      answer = await ask(proxy, request, timeoutMs);
    }
    if (answer.ok) {
      out.say(formatAmount(answer.value));
      return 0;
    }
    out.complain(formatFailure(answer.failure).trimEnd());
    return 1;
  },
});
