import { describe, expect, it } from 'vitest';
import { parseCommandLine } from '../src/cli';
import { parseDuration } from '../src/config';

async function config(...args: string[]) {
  const invocation = await parseCommandLine(args);
  if (invocation.kind !== 'run') throw new Error('expected a run');
  return invocation.config;
}

async function usageError(...args: string[]): Promise<string> {
  try {
    await parseCommandLine(args);
  } catch (error) {
    expect(error).toMatchObject({ name: 'ConverterError', code: 'USAGE' });
    return (error as Error).message;
  }
  throw new Error(`expected ${args.join(' ')} to be refused`);
}

describe('the converter command line', () => {
  it('takes the port first, as the seed does, with documented defaults', async () => {
    expect(await config('5557', '--pair', 'ft:in')).toEqual({
      port: 5557,
      pair: ['ft', 'in'],
      discovery: [{ host: '127.0.0.1', port: 5555 }],
      host: '127.0.0.1',
      advertise: '127.0.0.1',
      register: true,
      announceIntervalMs: 5000,
      idleTimeoutMs: 30_000,
      shutdownTimeoutMs: 2000,
      maxConnections: 256,
      logLevel: 'info',
    });
  });

  it('accepts --port instead, and every flag', async () => {
    const c = await config(
      '--port', '0', '--pair', '$:y', '--factor', '150', '--offset', '-1', '--discovery', '[::1]:6000',
      '--host', '::1', '--advertise', 'localhost', '--announce-interval', '250ms', '--idle-timeout', '1m',
      '--max-connections', '3', '--log-level', 'debug', '--shutdown-timeout', '500',
    );
    expect(c).toMatchObject({
      port: 0,
      pair: ['$', 'y'],
      factor: 150,
      offset: -1,
      discovery: [{ host: '::1', port: 6000 }],
      host: '::1',
      advertise: 'localhost',
      announceIntervalMs: 250,
      idleTimeoutMs: 60_000,
      maxConnections: 3,
      logLevel: 'debug',
      shutdownTimeoutMs: 500,
    });
    expect(Object.isFrozen(c)).toBe(true);
  });

  it('serves without discovery on --no-register, even on a wildcard host', async () => {
    expect(await config('0', '--pair', 'ft:in', '--no-register', '--host', '0.0.0.0')).toMatchObject({ register: false });
  });

  it('refuses a wildcard listen host without --advertise rather than guess', async () => {
    expect(await usageError('0', '--pair', 'ft:in', '--host', '0.0.0.0')).toBe(
      'converter: --host is a wildcard; give --advertise <host>, the address other servers should use (or --no-register), got "0.0.0.0"',
    );
    expect(await usageError('0', '--pair', 'ft:in', '--host', '::')).toMatch(/^converter: --host is a wildcard/);
    expect(await config('0', '--pair', 'ft:in', '--host', '0.0.0.0', '--advertise', '127.0.0.1')).toMatchObject({
      host: '0.0.0.0',
      advertise: '127.0.0.1',
    });
    expect(await usageError('0', '--pair', 'ft:in', '--advertise', '0.0.0.0')).toMatch(/^converter: --advertise must be an address/);
  });

  it('names the flag and what it expects in one line', async () => {
    expect(await usageError('--pair', 'ft:in')).toBe('converter: a port is required: converter <port> --pair <a>:<b> (see --help)');
    expect(await usageError('0')).toBe('converter: --pair is required, such as --pair ft:in (see --help)');
    expect(await usageError('70000', '--pair', 'ft:in')).toBe('converter: --port must be a whole number from 0 to 65535, got "70000"');
    expect(await usageError('0', '--pair', 'ft:ft')).toMatch(/^converter: --pair must be two different unit symbols/);
    expect(await usageError('0', '--pair', 'ft:in', '--factor', '0')).toMatch(/^converter: --factor must be a non-zero decimal/);
    expect(await usageError('0', '--pair', 'ft:in', '--offset', '3')).toMatch(/^converter: --offset needs --factor/);
    expect(await usageError('0', '--pair', 'ft:in', '--idle-timeout', 'soon')).toMatch(/^converter: --idle-timeout must be a duration/);
    expect(await usageError('0', '--pair', 'ft:in', '--discovery', '127.0.0.1')).toMatch(/^converter: --discovery must be <host>:<port>/);
    expect(await usageError('0', '--pair', 'ft:in', '--max-connections', '0')).toMatch(/^converter: --max-connections must be/);
    expect(await usageError('0', '--pair', 'ft:in', '--log-level', 'loud')).toMatch(/^converter: --log-level must be one of/);
    expect(await usageError('0', '--pair', 'ft:in', '--frobnicate')).toBe('converter: unknown option --frobnicate (see --help)');
    expect(await usageError('1', '--port', '2', '--pair', 'ft:in')).toMatch(/^converter: the port was given twice/);
    expect(await usageError('0', '--pair', 'ft:in', '--pair', 'kg:g')).toBe('converter: --pair was given more than once');
  });

  it('prints help on --help', async () => {
    const invocation = await parseCommandLine(['--help']);
    expect(invocation.kind).toBe('help');
    expect(invocation.kind === 'help' && invocation.text).toContain('--announce-interval');
  });
});

describe('durations on the command line', () => {
  it('read as milliseconds, or with ms, s or m', () => {
    expect([parseDuration('500'), parseDuration('500ms'), parseDuration('2s'), parseDuration('1.5s'), parseDuration('1m')]).toEqual([
      500, 500, 2000, 1500, 60_000,
    ]);
    expect([parseDuration(''), parseDuration('2h'), parseDuration('-1s'), parseDuration('s')]).toEqual([
      undefined, undefined, undefined, undefined,
    ]);
  });
});
