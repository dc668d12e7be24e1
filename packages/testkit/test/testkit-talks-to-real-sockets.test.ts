import { afterEach, describe, expect, it } from 'vitest';
import { LineClient, exchange, startFakeConverter, startServer, stopAll, waitFor } from '../src/index';
import type { FakeConverter } from '../src/index';

const toClose: FakeConverter[] = [];
afterEach(async () => {
  await Promise.all(toClose.splice(0).map((c) => c.close()));
  await stopAll();
});

describe('testkit', () => {
  it('exchanges one request with a course-style converter', async () => {
    const converter = await startFakeConverter({ units: ['ft', 'in'], factor: 12 });
    toClose.push(converter);
    expect(await exchange(converter.port, 'ft in 1.25')).toEqual([
      'HELLO converter ft in - send "<from> <to> <amount>"',
      '15',
    ]);
    expect(await exchange(converter.port, 'kg g 1')).toHaveLength(2);
    expect(converter.requests).toEqual(['ft in 1.25', 'kg g 1']);
  });

  it('reads lines one at a time from a persistent connection', async () => {
    const converter = await startFakeConverter({ units: ['a', 'b'], factor: 2 });
    toClose.push(converter);
    const client = await LineClient.connect(converter.port);
    expect(await client.nextLine()).toMatch(/^HELLO/);
    expect(await client.request('b a 4')).toEqual(['2']);
    await client.closed;
    expect(client.isClosed).toBe(true);
  });

  it('starts a process, reads its banner address and sees its exit code', async () => {
    const script = `
      const server = require('node:net').createServer().listen(0, '127.0.0.1', () => {
        console.log('demo listening on 127.0.0.1:' + server.address().port);
      });
      process.on('SIGTERM', () => server.close(() => process.exit(0)));`;
    const file = new URL(`./.tmp-demo-${process.pid}.cjs`, import.meta.url).pathname;
    const { writeFileSync, rmSync } = await import('node:fs');
    writeFileSync(file, script);
    try {
      const demo = await startServer(file, []);
      expect(demo.host).toBe('127.0.0.1');
      expect(demo.port).toBeGreaterThan(0);
      expect(await demo.stop()).toBe(0);
    } finally {
      rmSync(file, { force: true });
    }
  });

  it('waitFor names what it waited for when the deadline passes', async () => {
    await expect(waitFor(() => false, { what: 'the impossible', timeoutMs: 50 })).rejects.toThrow(
      /waiting for the impossible/,
    );
    let calls = 0;
    expect(await waitFor(() => ++calls >= 3 && calls, { what: 'three calls' })).toBe(3);
  });
});
