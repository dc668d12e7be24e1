#!/usr/bin/env node
import { isCodedError, readCommandLine } from '@conv/server';
import { version } from '../package.json';
import { askCommand } from './ask-command';
import { chaosCommand } from './chaos/command';
import type { Output, RunnableCommand } from './command';
import { etcdCommand } from './etcd-command';
import { statusCommand } from './status-command';
import { upCommand } from './up-command';

const COMMANDS: Readonly<Record<string, RunnableCommand>> = { up: upCommand, status: statusCommand, chaos: chaosCommand, etcd: etcdCommand };

const out: Output = { say: (line) => console.log(line), complain: (line) => console.error(line) };

/**
 * The bin: picks the command by its first word (none: ask the proxy), reads its command line
 * strictly (an unknown flag starts nothing: exit 2), runs it. Exit codes: 0 answered / stopped
 * cleanly, 1 the system failed to answer, 2 you typed something wrong.
 */
async function main(argv: readonly string[]): Promise<number> {
  if (argv[0] === '--version') {
    out.say(version);
    return 0;
  }
  const named = argv[0] === undefined ? undefined : COMMANDS[argv[0]];
  const command = named ?? askCommand;
  const args = named ? argv.slice(1) : argv;
  const name = command.spec.name;
  try {
    if (!named && args.length === 0) {
      out.say(`${askCommand.spec.usage}`);
      return 2;
    }
    const line = readCommandLine(command.spec, args);
    if (line.kind === 'print') {
      out.say(line.text);
      return 0;
    }
    return await command.execute(line, process.env, out);
  } catch (error) {
    if (isCodedError(error)) {
      out.complain(`${name}: ${error.message}`);
      return error.exitCode;
    }
    out.complain(`${name}: internal error: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
    return 1;
  }
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error('conv: internal error:', error);
    process.exit(1);
  },
);
