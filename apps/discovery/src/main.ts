#!/usr/bin/env node
import { startDiscovery } from './app';
import { parseCli } from './cli';
import { DiscoveryError, exitCodeOf } from './errors';
import { createLogger, stopWhenSupervisorLeaves } from '@conv/observability';

// The bin: wiring only. One top-level catch turns every failure into one line and an exit code.
async function main(): Promise<void> {
  stopWhenSupervisorLeaves();
  const cli = parseCli(process.argv.slice(2), process.env);
  if (cli.kind === 'print') {
    process.stdout.write(`${cli.text}\n`);
    return;
  }
  const log = createLogger({ name: 'discovery', level: cli.config.logLevel });
  const running = await startDiscovery(cli.config, log);

  // Handlers go in before the banner: whoever reads the banner may signal at once.
  let signals = 0;
  const shutdown = (signal: NodeJS.Signals) => {
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
  process.on('SIGINT', shutdown);
  process.on('SIGTERM', shutdown);
  process.stdout.write(`${running.banner}\n`);
}

main().catch((error: unknown) => {
  if (error instanceof DiscoveryError) {
    process.stderr.write(`discovery: ${error.message}\n`);
  } else {
    // Not one of ours: a bug. Say so in one line, with the stack below it for the report.
    process.stderr.write(`discovery: internal error: ${error instanceof Error ? error.message : String(error)}\n`);
    if (error instanceof Error && error.stack) process.stderr.write(`${error.stack}\n`);
  }
  process.exit(exitCodeOf(error));
});
