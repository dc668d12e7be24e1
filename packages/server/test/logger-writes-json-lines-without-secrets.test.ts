import { describe, expect, it } from 'vitest';
import { createLogger } from '../src/index';

function capture(name: string, level: 'info' | 'debug' = 'info') {
  const lines: string[] = [];
  const log = createLogger({ name, level, write: (line) => void lines.push(line), now: () => new Date('2026-01-02T03:04:05.678Z') });
  return { log, lines, events: () => lines.map((line) => JSON.parse(line) as Record<string, unknown>) };
}

// One logger for every server: the same checks for each name they log under.
describe.each(['discovery', 'converter', 'proxy'])('the %s logger (pino)', (name) => {
  it('writes one JSON object per line: level label, ISO time, the event as msg, the fields', () => {
    const { log, lines, events } = capture(name);
    log.info('registered', { endpoint: '127.0.0.1:6001', pair: 'ft/in', up: true, count: 2, skipped: undefined });
    expect(lines).toHaveLength(1);
    expect(lines[0]?.endsWith('\n')).toBe(true);
    expect(events()[0]).toEqual({
      level: 'info', time: '2026-01-02T03:04:05.678Z', pid: process.pid, name,
      endpoint: '127.0.0.1:6001', pair: 'ft/in', up: true, count: 2, msg: 'registered',
    });
  });

  it('drops events below --log-level, tells its level and which levels are on', () => {
    const { log, lines } = capture(name, 'info');
    log.debug('probe', { ok: true });
    log.debug('hop.answered');
    expect(lines).toEqual([]);
    expect(log.level).toBe('info');
    expect(log.enabled('debug')).toBe(false);
    expect(log.enabled('warn')).toBe(true);
    expect(capture(name, 'debug').log.enabled('debug')).toBe(true);
  });

  it('never writes a secret: token, secret and password fields, and token=... inside text', () => {
    const { log, lines, events } = capture(name);
    const fields = { token: 's3cret-1', secret: 's3cret-2', password: 's3cret-3', request: 'ADD ft in 127.0.0.1 6001 token=s3cret-4' };
    log.error('internal', fields);
    expect(lines.join('')).not.toMatch(/s3cret/);
    expect(events()[0]).toMatchObject({ token: '[redacted]', secret: '[redacted]', password: '[redacted]', request: 'ADD ft in 127.0.0.1 6001 token=[redacted]' });
    expect(fields.token).toBe('s3cret-1');
  });
});

describe('pretty lines (a terminal)', () => {
  it('writes `<time> <LEVEL>: <event> key=value`, quoting values that would break the line, and still no secret', () => {
    const lines: string[] = [];
    const log = createLogger({ name: 'proxy', level: 'info', pretty: true, write: (line) => void lines.push(line) });
    log.warn('hop.failed', { endpoint: '127.0.0.1:6001', error: 'connect ECONNREFUSED', request: 'ft in 1 token=s3cret' });
    const text = lines.join('');
    expect(text).toMatch(/WARN.*hop\.failed endpoint=127\.0\.0\.1:6001 error="connect ECONNREFUSED" request="ft in 1 token=\[redacted\]"/);
    expect(text).not.toMatch(/s3cret/);
    expect(text.trimEnd().split('\n')).toHaveLength(1);
  });
});
