import { describe, expect, it } from 'vitest';
import { readConfig } from '../src/config';

const parseCommandLine = (args: readonly string[]) => Promise.resolve().then(() => readConfig(args));

async function config(...args: string[]) {
  const invocation = await parseCommandLine(args);
  if (invocation.kind !== 'run') throw new Error('expected a run');
  return invocation.config;
}

async function usageError(...args: string[]): Promise<string> {
  try {
    await parseCommandLine(args);
  } catch (error) {
    expect(error).toMatchObject({ name: 'ServerError', code: 'USAGE' });
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
      reannounce: true,
      announceIntervalMs: 5000,
      leaseMs: 5000,
      heartbeatIntervalMs: 1500,
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
    expect(await config('--lease', '2s', '--heartbeat-interval', '500ms')).toMatchObject({ leaseMs: 2000, heartbeatIntervalMs: 500 });
    expect(await config('--lease', '0')).toMatchObject({ leaseMs: 0 });
  });

  it('serves without discovery on --no-register, even on a wildcard host', async () => {
    expect(await config('0', '--pair', 'ft:in', '--no-register', '--host', '0.0.0.0')).toMatchObject({ register: false });
  });

  it('refuses a wildcard listen host without --advertise rather than guess', async () => {
    expect(await usageError('0', '--pair', 'ft:in', '--host', '0.0.0.0')).toBe(
      '--host is a wildcard; give --advertise <host>, the address other servers should use (or --no-register), got "0.0.0.0"',
    );
    expect(await usageError('0', '--pair', 'ft:in', '--host', '::')).toMatch(/^--host is a wildcard/);
    expect(await config('0', '--pair', 'ft:in', '--host', '0.0.0.0', '--advertise', '127.0.0.1')).toMatchObject({
      host: '0.0.0.0',
      advertise: '127.0.0.1',
    });
    expect(await usageError('0', '--pair', 'ft:in', '--advertise', '0.0.0.0')).toMatch(/^--advertise must be an address/);
  });

  it('names the flag and what it expects in one line', async () => {
    expect(await usageError('70000', '--pair', 'ft:in')).toBe('--port must be a whole number from 0 to 65535, got "70000"');
    expect(await usageError('0', '--pair', 'ft:ft')).toMatch(/^--pair must be two different unit symbols/);
    expect(await usageError('0', '--pair', 'ft:in', '--factor', '0')).toMatch(/^--factor must be a non-zero decimal/);
    expect(await usageError('0', '--pair', 'ft:in', '--offset', '3')).toMatch(/^--offset needs --factor/);
    expect(await usageError('0', '--pair', 'ft:in', '--idle-timeout', 'soon')).toMatch(/^--idle-timeout must be a duration/);
    expect(await usageError('0', '--pair', 'ft:in', '--discovery', '127.0.0.1')).toMatch(/^--discovery must be <host>:<port>/);
    expect(await usageError('0', '--pair', 'ft:in', '--max-connections', '0')).toMatch(/^--max-connections must be/);
    expect(await usageError('0', '--pair', 'ft:in', '--log-level', 'loud')).toMatch(/^--log-level must be one of/);
    expect(await usageError('0', '--pair', 'ft:in', '--frobnicate')).toBe('unknown option --frobnicate; see --help');
    expect(await usageError('1', '--port', '2', '--pair', 'ft:in')).toMatch(/^the port was given twice/);
    expect(await usageError('0', '--pair', 'ft:in', '--pair', 'kg:g')).toBe('--pair was given more than once');
  });

  it('takes the seed form `converter 5557 b in`, and serves ft <-> in on a free port with no arguments', async () => {
    expect(await config('5557', 'b', 'in')).toMatchObject({ port: 5557, pair: ['b', 'in'] });
    expect(await config()).toMatchObject({ port: 0, pair: ['ft', 'in'] });
    expect(await usageError('5557', 'b')).toMatch(/^the pair needs two units after the port/);
    expect(await usageError('5557', 'b', 'in', '--pair', 'ft:in')).toBe('the pair was given twice, as arguments and as --pair');
    expect(await usageError('5557', 'b', 'in', 'cm')).toMatch(/^unexpected argument "cm"/);
  });

  it('prints help on --help', async () => {
    const invocation = await parseCommandLine(['--help']);
    expect(invocation.kind).toBe('print');
    expect(invocation.kind === 'print' && invocation.text).toContain('--announce-interval');
  });
});
