import { describe, expect, it } from 'vitest';
import { createLogger } from '../src/log';

function capture(level: 'info' | 'debug' = 'info') {
  const lines: string[] = [];
  const log = createLogger({ level, write: (line) => void lines.push(line), now: () => new Date('2026-01-02T03:04:05.678Z') });
  return { log, lines, events: () => lines.map((line) => JSON.parse(line) as Record<string, unknown>) };
}

describe('the proxy logger (pino)', () => {
  it('writes one JSON object per line: level label, ISO time, the event as msg, the fields', () => {
    const { log, lines, events } = capture();
    log.info('registered', { endpoint: '127.0.0.1:6001', pair: 'ft/in', up: true, count: 2, skipped: undefined });
    expect(lines).toHaveLength(1);
    expect(lines[0]?.endsWith('\n')).toBe(true);
    expect(events()[0]).toEqual({
      level: 'info', time: '2026-01-02T03:04:05.678Z', pid: process.pid, name: 'proxy',
      endpoint: '127.0.0.1:6001', pair: 'ft/in', up: true, count: 2, msg: 'registered',
    });
  });

  it('drops events below --log-level, and tells its level', () => {
    const { log, lines } = capture('info');
    log.debug('hop.answered', { from: 'ft' });
    expect(lines).toEqual([]);
    expect(log.level).toBe('info');
  });

  it('never writes a secret: token, secret and password fields, and token=... inside text', () => {
    const { log, lines, events } = capture();
    const fields = { token: 's3cret-1', secret: 's3cret-2', password: 's3cret-3', request: 'ADD ft in 127.0.0.1 6001 token=s3cret-4' };
    log.error('internal', fields);
    expect(lines.join('')).not.toMatch(/s3cret/);
    expect(events()[0]).toMatchObject({ token: '[redacted]', secret: '[redacted]', password: '[redacted]', request: 'ADD ft in 127.0.0.1 6001 token=[redacted]' });
    expect(fields.token).toBe('s3cret-1');
  });
});
