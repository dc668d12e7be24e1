#!/usr/bin/env node
import { fileURLToPath } from 'node:url';
import { formatAmount, formatFailure } from '@conv/protocol';
import yargs from 'yargs';
import { hideBin } from 'yargs/helpers';
import { AskConfigSchema, UpConfigSchema, describeFlagError } from './config';
import { ask, parseQuery } from './query';
import { up } from './up-command';

const DEFAULT_DATA_DIR = fileURLToPath(new URL('../../../data', import.meta.url));
const say = (line: string) => console.log(line);

/** Exit codes: 0 answered / stopped cleanly, 1 the system failed to answer, 2 you typed something wrong. */
async function main(argv: string[]): Promise<number> {
  let code = 0;
  await yargs(argv)
    .scriptName('conv')
    .usage('$0 <amount> <from> <to>   ask the proxy (also: $0 "<from> <to> <amount>")\n$0 up                      run the whole system on loopback')
    .command(
      'up',
      'start discovery, the proxy and two converters for each of the course\'s eleven pairs',
      (y) =>
        y
          .option('host', { type: 'string', default: '127.0.0.1', describe: 'address every server listens on' })
          .option('discovery-port', { type: 'string', default: '5555' })
          .option('proxy-port', { type: 'string', default: '5556' })
          .option('converter-port', { type: 'string', default: '6001', describe: 'first converter port (0: any free port)' })
          .option('replicas', { type: 'string', default: '2', describe: 'converters per pair' })
          .option('data-dir', { type: 'string', default: DEFAULT_DATA_DIR, describe: 'registry file and logs' })
          .option('check-interval', { type: 'string', default: '1s', describe: 'discovery health-check interval' })
          .option('restart', { type: 'boolean', default: true, describe: 'restart a process that dies (--no-restart to watch failures)' })
          .option('log-level', { type: 'string', default: 'info' })
          .option('ready-timeout', { type: 'string', default: '30000', describe: 'ms to wait for every converter to be healthy' }),
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
      '$0 [query..]',
      'ask the proxy a conversion',
      (y) =>
        y
          .positional('query', { type: 'string', array: true, describe: '<amount> <from> <to>, or "<from> <to> <amount>"' })
          .option('proxy', { type: 'string', default: '127.0.0.1:5556', describe: 'the proxy, host:port' })
          .option('timeout', { type: 'string', default: '5000', describe: 'ms to wait for the answer' }),
      async (args) => {
        const config = AskConfigSchema.safeParse(args);
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
        const answer = await ask(config.data.proxy, request.value, config.data.timeout);
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
