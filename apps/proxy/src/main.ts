#!/usr/bin/env node
import { stopWhenSupervisorLeaves } from '@conv/observability';
import { parseCommandLine } from './cli';
import { exitCodeFor } from './errors';
import { run } from './run';

// The bin: wiring only. One catch maps every error to one line and an exit code.
stopWhenSupervisorLeaves();
try {
  const command = await parseCommandLine(process.argv.slice(2), process.env);
  if (command.kind === 'help') {
    process.stdout.write(`${command.text}\n`);
  } else {
    await run(command.config);
  }
} catch (error) {
  const code = exitCodeFor(error);
  const message = error instanceof Error ? error.message : String(error);
  process.stderr.write(`${code === 1 && !(error instanceof Error && error.name === 'ProxyError') ? `proxy: internal error: ${message}` : message}\n`);
  process.exitCode = code;
}
