import { isCodedError } from './errors';
import { type LogLevel, type Logger, createLogger } from './log';
import { stopWhenSupervisorLeaves } from './supervised';

/** A started server, as its process entry sees it. */
export interface RunningServer {
  /** The one line printed on stdout once ready (see formatBanner). */
  readonly banner: string;
  /** Leaves cleanly: deregister, stop accepting, answer what is in flight, close. */
  close(): Promise<void>;
  /** The process was frozen (SIGSTOP) and continues (SIGCONT). */
  resumed?(): void;
}

export type ServerProgram<Config extends { readonly logLevel: LogLevel }> = {
  /** `discovery`, `converter`, `proxy`: the log's name and the prefix of every message. */
  readonly name: string;
  /** argv (without `node script`) and the environment -> text to print, or a validated config. Throws a usage error. */
  parse(argv: readonly string[], env: NodeJS.ProcessEnv): { kind: 'print'; text: string } | { kind: 'run'; config: Config };
  start(config: Config, log: Logger): Promise<RunningServer>;
};

/**
 * A server's process entry, the same for all: parse, start, print the banner last (whoever
 * reads it may signal at once), and on SIGINT/SIGTERM close cleanly and exit 0; a second signal
 * forces exit 1. Started by `conv up`, it also stops when its supervisor goes (see supervised.ts). One top-level catch: a known error is one line `<name>: <message>` and its
 * exit code (2 for usage); anything else is a bug, printed with its stack, exit 1.
 */
export async function runServer<Config extends { readonly logLevel: LogLevel }>(program: ServerProgram<Config>): Promise<void> {
  const { name } = program;
  stopWhenSupervisorLeaves();
  try {
    const invocation = program.parse(process.argv.slice(2), process.env);
    if (invocation.kind === 'print') {
      process.stdout.write(`${invocation.text}\n`);
      return;
    }
    const log = createLogger({ name, level: invocation.config.logLevel });
    const running = await program.start(invocation.config, log);
    let signals = 0;
    const stop = (signal: NodeJS.Signals): void => {
      signals++;
      if (signals > 1) {
        log.warn('forced-exit', { signal });
        process.exit(1);
      }
      log.info('stopping', { signal });
      running.close().then(
        () => process.exit(0),
        (error: unknown) => {
          log.error('shutdown-failed', { error: error instanceof Error ? error.message : String(error) });
          process.exit(1);
        },
      );
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
    process.on('SIGCONT', () => running.resumed?.());
    process.stdout.write(`${running.banner}\n`);
  } catch (error) {
    if (isCodedError(error)) {
      process.stderr.write(`${name}: ${error.message}\n`);
      process.exitCode = error.exitCode;
      return;
    }
    process.stderr.write(`${name}: internal error: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exitCode = 1;
  }
}
