import { describe, expect, it } from 'vitest';
import { exposureNote, formatBanner, isLoopbackHost, parseBanner } from '../src/index';

describe('the banner', () => {
  it('says what listens where, who can reach it, then the notes', () => {
    expect(formatBanner({ what: 'proxy', address: { host: '127.0.0.1', port: 5556 }, listenHost: '127.0.0.1', notes: ['discovery 127.0.0.1:5555'] })).toBe(
      'proxy listening on 127.0.0.1:5556 (loopback only; --host to expose; discovery 127.0.0.1:5555)',
    );
    expect(formatBanner({ what: 'discovery', address: { host: '::', port: 5555 }, listenHost: '::' })).toBe('discovery listening on [::]:5555 (exposed on ::)');
  });

  it('is read back by launchers, IPv6 included, from output that may hold log lines before it', () => {
    const banner = formatBanner({ what: 'converter ft <-> in', address: { host: '::1', port: 6001 }, listenHost: '::1' });
    expect(parseBanner(`{"level":"info","msg":"start"}\n${banner}\n`)).toEqual({ host: '::1', port: 6001 });
    expect(parseBanner('discovery listening on 127.0.0.1:5555 (loopback only)')).toEqual({ host: '127.0.0.1', port: 5555 });
    expect(parseBanner('{"level":"info","msg":"start"}\n')).toBeUndefined();
  });
});

describe('loopback', () => {
  it.each(['127.0.0.1', '127.0.0.2', '::1', '[::1]', 'localhost', 'LOCALHOST', '0:0:0:0:0:0:0:1'])('%s is loopback only', (host) => {
    expect(isLoopbackHost(host)).toBe(true);
    expect(exposureNote(host)).toBe('loopback only; --host to expose');
  });

  it.each(['0.0.0.0', '::', '10.0.0.1', 'conv.example', '128.0.0.1'])('%s is exposed', (host) => {
    expect(isLoopbackHost(host)).toBe(false);
    expect(exposureNote(host)).toBe(`exposed on ${host}`);
  });
});
