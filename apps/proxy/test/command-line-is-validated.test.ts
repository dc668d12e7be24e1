import { describe, expect, it } from 'vitest';
import { readConfig } from '../src/config';

const parseCommandLine = (argv: readonly string[]) => Promise.resolve().then(() => readConfig(argv));

async function config(...argv: string[]) {
  const command = await parseCommandLine(argv);
  if (command.kind !== 'run') throw new Error('expected a config');
  return command.config;
}

async function usageError(...argv: string[]): Promise<string> {
  try {
    await parseCommandLine(argv);
  } catch (error) {
    expect(error).toMatchObject({ name: 'ServerError', code: 'USAGE' });
    return (error as Error).message;
  }
  throw new Error(`expected ${argv.join(' ')} to be refused`);
}

describe('the command line', () => {
  it('has the documented defaults', async () => {
    expect(await config()).toEqual({
      port: 5556,
      host: '127.0.0.1',
      discovery: [{ host: '127.0.0.1', port: 5555 }],
      hopTimeoutMs: 1000,
      pathTtlMs: 2000,
      staleTtlMs: 300_000,
      ejectionTimeMs: 3000,
      maxEjectionTimeMs: 30_000,
      maxConnections: 1024,
      pipelineDepth: 16,
      idleTimeoutMs: 30_000,
      shutdownTimeoutMs: 3000,
      logLevel: 'info',
    });
  });

  it('takes the seed form: port, discovery host, discovery port', async () => {
    expect(await config('5557', '127.0.0.2', '6000')).toMatchObject({ port: 5557, discovery: [{ host: '127.0.0.2', port: 6000 }] });
    expect(await config('0', '::1', '6000')).toMatchObject({ port: 0, discovery: [{ host: '::1', port: 6000 }] });
  });

  it('takes flags with durations in ms or with a unit', async () => {
    const parsed = await config('--port', '0', '--discovery', '[::1]:7000', '--hop-timeout', '250ms', '--path-ttl', '3s', '--stale-ttl', '1m', '--log-level', 'debug');
    expect(parsed).toMatchObject({ port: 0, discovery: [{ host: '::1', port: 7000 }], hopTimeoutMs: 250, pathTtlMs: 3000, staleTtlMs: 60_000, logLevel: 'debug' });
    expect(Object.isFrozen(parsed)).toBe(true);
  });

  it('takes the ejection times, with --failed-ttl as the old name of the base time', async () => {
    expect(await config('--ejection-time', '500ms', '--max-ejection-time', '10s')).toMatchObject({ ejectionTimeMs: 500, maxEjectionTimeMs: 10_000 });
    expect(await config('--failed-ttl', '2s')).toMatchObject({ ejectionTimeMs: 2000, maxEjectionTimeMs: 30_000 });
    expect(await usageError('--failed-ttl', '2s', '--ejection-time', '1s')).toMatch(/not both/);
    expect(await usageError('--ejection-time', '2m')).toBe('--max-ejection-time must be at least --ejection-time (2m), got "30s"');
  });

  it('refuses bad values with one line naming the flag', async () => {
    expect(await usageError('--port', 'x')).toBe('--port must be a whole number from 0 to 65535, got "x"');
    expect(await usageError('--hop-timeout', 'soon')).toBe('--hop-timeout must be a duration such as 500ms, 2s or 1m, above 0, got "soon"');
    expect(await usageError('--discovery', '127.0.0.1')).toMatch(/^--discovery must be <host>:<port>/);
    expect(await usageError('--log-level', 'loud')).toMatch(/^--log-level must be one of error, warn, info, debug/);
    expect(await usageError('--max-connections', '0')).toMatch(/^--max-connections must be a whole number from 1/);
    expect(await usageError('--frobnicate')).toBe('unknown option --frobnicate; see --help');
    expect(await usageError('5556', '127.0.0.1')).toMatch(/needs both <discovery-host> and <discovery-port>/);
    expect(await usageError('5556', '127.0.0.1', '5555', '--discovery', '127.0.0.1:5555')).toMatch(/not both/);
  });

  it('prints help', async () => {
    const command = await parseCommandLine(['--help']);
    expect(command.kind).toBe('print');
    if (command.kind === 'print') expect(command.text).toMatch(/--hop-timeout/);
  });
});
