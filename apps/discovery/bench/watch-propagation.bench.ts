// pnpm --filter discovery bench: how fast a change reaches every watcher. The built discovery
// server holds 10,000 registered endpoints; 10 watchers (what 10 proxies keep) follow it over
// loopback from this process; one change at a time (an owner's REMOVE, then the ADD back), the
// time from writing the request to each watcher reading its CHANGE line.
import { type Socket, connect } from 'node:net';
import { APP, startServer, stopAll } from '@conv/testkit';

const ENDPOINTS = 10_000;
const WATCHERS = 10;
const CHANGES = Number(process.env.BENCH_CHANGES ?? 1000);
const PAIRS = 1000; // 10 endpoints per pair

const log = (text: string) => process.stdout.write(`${text}\n`);

type Lines = { next(): Promise<string> };

/** A connection read line by line; `next` resolves with the next line. */
function open(port: number): Promise<{ socket: Socket; lines: Lines; onLine: (fn: (line: string) => void) => void }> {
  return new Promise((resolve, reject) => {
    const socket = connect({ port, host: '127.0.0.1', noDelay: true });
    let buffer = '';
    let listener: ((line: string) => void) | undefined;
    const queue: string[] = [];
    const waiting: ((line: string) => void)[] = [];
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => {
      const parts = (buffer + chunk).split('\n');
      buffer = parts.pop() ?? '';
      for (const line of parts) {
        if (listener) listener(line);
        else if (waiting.length > 0) waiting.shift()?.(line);
        else queue.push(line);
      }
    });
    socket.once('error', reject);
    socket.once('connect', () =>
      resolve({
        socket,
        lines: { next: () => new Promise<string>((done) => (queue.length > 0 ? done(queue.shift() ?? '') : waiting.push(done))) },
        onLine: (fn) => (listener = fn),
      }),
    );
  });
}

async function until(lines: Lines, test: (line: string) => boolean): Promise<string> {
  for (;;) {
    const line = await lines.next();
    if (test(line)) return line;
  }
}

const percentile = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;

async function main(): Promise<void> {
  const discovery = await startServer(APP.discovery, ['0', '--db', ':memory:', '--trust-registrations', '--check-interval', '0', '--log-level', 'warn']);
  const admin = await open(discovery.port);
  admin.socket.write('SESSION\n');
  await until(admin.lines, (line) => line === 'OK session');
  let adds = '';
  for (let i = 0; i < ENDPOINTS; i++) adds += `ADD a${i % PAIRS} b${i % PAIRS} 127.0.0.1 ${10_000 + i}\n`;
  admin.socket.write(adds);
  for (let i = 0; i < ENDPOINTS; i++) await until(admin.lines, (line) => line === 'SUCCESS');

  const watchers = await Promise.all(Array.from({ length: WATCHERS }, () => open(discovery.port)));
  const snapshotMs: number[] = [];
  await Promise.all(
    watchers.map(async (watcher, i) => {
      const started = performance.now();
      watcher.socket.write(`WATCH as=bench-${i}\n`);
      await until(watcher.lines, (line) => line.startsWith('SYNCED '));
      snapshotMs.push(performance.now() - started);
    }),
  );
  log(`discovery watch: ${ENDPOINTS.toLocaleString('en-US')} endpoints, ${WATCHERS} watchers; snapshot of every registration in ${Math.max(...snapshotMs).toFixed(0)} ms (slowest watcher)`);

  // Every watcher reports when it reads the CHANGE line of the change in flight.
  let pending: { sentAt: number; left: number; done: () => void } | undefined;
  const samples: number[] = [];
  for (const watcher of watchers) {
    watcher.onLine((line) => {
      if (pending === undefined || !line.startsWith('CHANGE ')) return;
      samples.push(performance.now() - pending.sentAt);
      if (--pending.left === 0) pending.done();
    });
  }
  for (let i = 0; i < CHANGES; i++) {
    // Even: an owner removes endpoint k; odd: it registers again. Every request is one change.
    const k = (i - (i % 2)) % ENDPOINTS;
    const line = i % 2 === 0 ? `REMOVE 127.0.0.1 ${10_000 + k}\n` : `ADD a${k % PAIRS} b${k % PAIRS} 127.0.0.1 ${10_000 + k}\n`;
    await new Promise<void>((done) => {
      pending = { sentAt: performance.now(), left: WATCHERS, done };
      admin.socket.write(line);
    });
    await until(admin.lines, (reply) => reply === 'SUCCESS' || reply.startsWith('FAILURE'));
  }
  samples.sort((a, b) => a - b);
  log(
    `discovery watch: ${CHANGES} changes x ${WATCHERS} watchers: request written -> CHANGE read, p50 ${percentile(samples, 50).toFixed(2)} ms, p99 ${percentile(samples, 99).toFixed(2)} ms, max ${(samples.at(-1) ?? NaN).toFixed(2)} ms`,
  );
  for (const watcher of [...watchers, admin]) watcher.socket.destroy();
}

main()
  .catch((error: unknown) => {
    process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exitCode = 1;
  })
  .finally(() => stopAll());
