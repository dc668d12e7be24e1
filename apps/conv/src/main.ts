#!/usr/bin/env node
import { fileURLToPath } from 'node:url';
import { type Result, formatAmount, formatFailure } from '@conv/protocol';
import yargs from 'yargs';
import { hideBin } from 'yargs/helpers';
import { ChaosConfigSchema, chaos } from './chaos/command';
import { AskConfigSchema, EtcdConfigSchema, StatusConfigSchema, UpConfigSchema, describeFlagError } from './config';
import { runEtcd } from './etcd-command';
import { ask, askTraced, formatHops, parseQuery } from './query';
import { status } from './status-command';
import { up } from './up-command';

const DEFAULT_DATA_DIR = fileURLToPath(new URL('../../../data', import.meta.url));
const say = (line: string) => console.log(line);

/** Exit codes: 0 answered / stopped cleanly, 1 the system failed to answer, 2 you typed something wrong. */
async function main(argv: string[]): Promise<number> {
  let code = 0;
  await yargs(argv)
    .scriptName('conv')
    .usage('$0 <amount> <from> <to>   ask the proxy (also: $0 "<from> <to> <amount>")\n$0 up                      run the whole system on loopback\n$0 status [--json]         pools, endpoints, health and the unit graph (from the status page)\n$0 chaos [--duration 60s]  kill, stop and restart servers under load; check every answer')
    .command(
      'up',
      'start discovery, the proxy and two converters for each of the course\'s eleven pairs',
      (y) =>
        y
          .option('host', { type: 'string', default: '127.0.0.1', describe: 'address every server listens on' })
          .option('discovery-port', { type: 'string', default: '5555' })
          .option('http-port', { type: 'string', describe: 'status page and metrics of discovery; the proxy takes the next port (default: --discovery-port + 25, i.e. 5580)' })
          .option('proxy-port', { type: 'string', default: '5556' })
          .option('converter-port', { type: 'string', default: '6001', describe: 'first converter port (0: any free port)' })
          .option('replicas', { type: 'string', default: '2', describe: 'converters per pair' })
          .option('data-dir', { type: 'string', default: DEFAULT_DATA_DIR, describe: 'registry file and logs' })
          .option('check-interval', { type: 'string', default: '1s', describe: 'discovery health-check interval' })
          .option('restart', { type: 'boolean', default: true, describe: 'restart a process that dies (--no-restart to watch failures)' })
          .option('log-level', { type: 'string', default: 'info' })
          .option('ready-timeout', { type: 'string', default: '30000', describe: 'ms to wait for every converter to be healthy' })
          .option('store', { type: 'string', describe: 'keep the registry in etcd (etcd://127.0.0.1:2379, or a cluster\'s members etcd://a,b,c; see `conv etcd`) instead of data/discovery.db' })
          .option('discovery-replicas', { type: 'string', default: '1', describe: 'discovery replicas sharing the etcd registry, on ports 5555, 5557, ... (needs --store)' }),
      async (args) => {
        const config = UpConfigSchema.safeParse(args);
        if (!config.success) {
          console.error(`conv up: ${describeFlagError(config.error)}`);
          code = 2;
          return;
        }
        code = await up(config.data, say);
      },
    )
    .command(
      'etcd',
      'run etcd on loopback for `conv up --store etcd://...`: one member (data in data/etcd), or a cluster with --members 3 (data in data/etcd/<member>)',
      (y) =>
        y
          .option('members', { type: 'string', default: '1', describe: 'etcd members: 1, or 3 (or 5) for a cluster that survives the loss of one (or two)' })
          .option('port', { type: 'string', default: '2379', describe: 'first member\'s client port; member i takes port + 2i (0: any free ports)' })
          .option('peer-port', { type: 'string', default: '2380', describe: 'first member\'s peer port; member i takes peer-port + 2i' })
          .option('data-dir', { type: 'string', default: DEFAULT_DATA_DIR, describe: 'etcd keeps its data in <data-dir>/etcd (a cluster: <data-dir>/etcd/<member>)' })
          .option('ready-timeout', { type: 'string', default: '30000', describe: 'ms to wait for every member to be healthy' }),
      async (args) => {
        const config = EtcdConfigSchema.safeParse(args);
        if (!config.success) {
          console.error(`conv etcd: ${describeFlagError(config.error)}`);
          code = 2;
          return;
        }
        code = await runEtcd(config.data, say);
      },
    )
    .command(
      'chaos',
      'start discovery, the proxy and three replicas of each pair of lbs -> b -> in -> cm -> m, load it and inject faults; exit 0 if no request failed',
      (y) =>
        y
          .option('duration', { type: 'string', default: '60s', describe: 'how long the load and the faults last (e.g. 60s, 10m)' })
          .option('seed', { type: 'string', default: '42', describe: 'seeds the fault plan and the questions' })
          .option('clients', { type: 'string', default: '8', describe: 'concurrent clients' })
          .option('keep-logs', { type: 'boolean', default: false, describe: 'keep the processes\' logs after a passing run' }),
      async (args) => {
        const config = ChaosConfigSchema.safeParse(args);
        if (!config.success) {
          console.error(`conv chaos: ${describeFlagError(config.error)}`);
          code = 2;
          return;
        }
        code = await chaos(config.data, say);
      },
    )
    .command(
      'status',
      "show every pool, its endpoints' health, last check, requests served and round-robin position, and the unit graph",
      (y) =>
        y
          .option('http', { type: 'string', default: '127.0.0.1:5580', describe: "discovery's --http-port address, host:port" })
          .option('json', { type: 'boolean', default: false, describe: 'print the status as JSON, for scripts' })
          .option('timeout', { type: 'string', default: '5000', describe: 'ms to wait for discovery' }),
      async (args) => {
        const config = StatusConfigSchema.safeParse(args);
        if (!config.success) {
          console.error(`conv status: ${describeFlagError(config.error)}`);
          code = 2;
          return;
        }
        code = await status(config.data, { say, complain: (text) => console.error(text) });
      },
    )
    .command(
      '$0 [query..]',
      'ask the proxy a conversion',
      (y) =>
        y
          .positional('query', { type: 'string', array: true, describe: '<amount> <from> <to>, or "<from> <to> <amount>"' })
          .option('proxy', { type: 'string', default: '127.0.0.1:5556', describe: 'the proxy, host:port' })
          .option('timeout', { type: 'string', default: '5000', describe: 'ms to wait for the answer' })
          .option('path', { type: 'boolean', default: false, describe: 'also print each conversion the proxy made, and which server answered it' }),
      async (args) => {
        // Words after `--` (a negative amount: conv -- -3 ft in) arrive apart from the query.
        const words = [...(args.query ?? []), ...args._.map(String)];
        const config = AskConfigSchema.safeParse({ ...args, query: words });
        if (!config.success) {
          console.error(`conv: ${describeFlagError(config.error)}`);
          code = 2;
          return;
        }
        const request = parseQuery(config.data.query);
        if (!request.ok) {
          console.error(`conv: ${request.failure.message}`);
          code = 2;
          return;
        }
        const { proxy, timeout } = config.data;
        let answer: Result<number>;
        if (config.data.path) {
          const traced = await askTraced(proxy, request.value, timeout);
          if (traced.ok) for (const line of formatHops(traced.value.hops)) say(line);
          answer = traced.ok ? traced.value.answer : traced;
        } else {
          answer = await ask(proxy, request.value, timeout);
        }
        if (answer.ok) {
          say(formatAmount(answer.value));
        } else {
          process.stderr.write(formatFailure(answer.failure));
          code = 1;
        }
      },
    )
    .parserConfiguration({ 'parse-numbers': false, 'parse-positional-numbers': false })
    .strict()
    .fail((message, error) => {
      if (error) throw error;
      console.error(`conv: ${message}`);
      code = 2;
    })
    .help()
    .parseAsync();
  return code;
}

main(hideBin(process.argv)).then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error('conv: internal error:', error);
    process.exit(1);
  },
);
