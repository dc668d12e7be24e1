import type { CommandSpec, ReadCommandLine } from '@conv/server';

/** Where a command writes: results on stdout, complaints on stderr. */
export type Output = { say(line: string): void; complain(line: string): void };

/** What the bin needs of any command: its command line, and a way to run it from a read line. */
export interface RunnableCommand {
  readonly spec: CommandSpec;
  /** Reads the config (a ServerError USAGE when it cannot) and runs: the exit code. */
  execute(line: ReadCommandLine, env: NodeJS.ProcessEnv, out: Output): Promise<number>;
}

/**
 * One `conv` command: its command line (flags and positionals, for --help and strict
 * reading), how the read line becomes a validated config, and what it does: the exit code
 * (0 done, 1 the system failed, 2 you typed something wrong).
 */
export type ConvCommand<Config> = RunnableCommand & {
  read(line: ReadCommandLine, env: NodeJS.ProcessEnv): Config;
  run(config: Config, out: Output): Promise<number>;
};

export function defineCommand<Config>(parts: Omit<ConvCommand<Config>, 'execute'>): ConvCommand<Config> {
  return { ...parts, execute: (line, env, out) => parts.run(parts.read(line, env), out) };
}
