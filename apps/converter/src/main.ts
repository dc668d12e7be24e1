#!/usr/bin/env node
import { startConverter } from './app';
import { parseCommandLine } from './cli';
import { exitCodeFor } from './errors';
import { createLogger, stopWhenSupervisorLeaves } from '@conv/observability';

// The bin: wiring only. Every error reaches the one catch below, which maps it to an exit code.
async function main(): Promise<void> {
  stopWhenSupervisorLeaves();
  const invocation = await parseCommandLine(process.argv.slice(2), process.env);
  if (invocation.kind === 'help') {
    process.stdout.write(`${invocation.text}\n`);
    return;
  }
  const { config } = invocation;
  const log = createLogger({ name: 'converter', level: config.logLevel });
  const converter = await startConverter(config, log);

  let signals = 0;
  const onSignal = (signal: NodeJS.Signals): void => {
    signals++;
    if (signals > 1) {
      log.warn('forced-exit', { signal });
      process.exit(1);
    }
    log.info('signal', { signal });
    converter.shutdown().then(
      () => process.exit(0),
      (error: unknown) => {
        log.error('shutdown-failed', { error: error instanceof Error ? error.message : String(error) });
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  // Frozen and continued (SIGSTOP, a paused VM): discovery may have dropped us meanwhile.
  process.on('SIGCONT', () => converter.registration?.resumed());
  // The banner tells launchers and tests we are ready, signals included: print it last.
  process.stdout.write(`${converter.banner}\n`);
}

main().catch((error: unknown) => {
  const code = exitCodeFor(error);
  // Usage errors and known runtime failures are one line; anything else is a bug, so show it whole.
  const known = error instanceof Error && error.name === 'ConverterError';
  process.stderr.write(`${known ? error.message : error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exitCode = code;
});
