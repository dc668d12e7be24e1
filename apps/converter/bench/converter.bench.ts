/**
 * Benchmark of one converter process: `pnpm --filter converter bench`.
 * Drives the built converter (dist/main.js) over loopback two ways for a few seconds each:
 * course-style one-shot clients (connect, greeting, one request, answer, close) and
 * persistent-mode clients (PERSIST, then request/answer in lock step). Prints conversions/s
 * and latency percentiles. Timings on a shared 2-core machine are noisy: read them as orders
 * of magnitude, not as exact figures.
 */
import { connect } from 'node:net';
import { performance } from 'node:perf_hooks';
import { APP, readLines, startServer, stopAll } from '@conv/testkit';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 3);
const ONE_SHOT_CLIENTS = 32;
const PERSISTENT_CLIENTS = 8;

type Figures = { conversions: number; seconds: number; latenciesMs: number[]; failures: number };

function oneShot(port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const socket = connect({ port, host: '127.0.0.1', noDelay: true });
    let text = '';
    let sent = false;
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => {
      text += chunk;
      if (!sent && text.includes('\n')) {
        sent = true;
        socket.write('ft in 1.25\n');
      }
    });
    socket.on('error', reject);
    socket.on('close', () => (text.endsWith('15\n') ? resolve(performance.now() - started) : reject(new Error(text))));
  });
}

type Tally = { latenciesMs: number[]; failures: number };

/** Runs `clients` copies of `client` until SECONDS have passed; they record into one tally. */
async function timed(clients: number, client: (deadline: number, tally: Tally) => Promise<void>): Promise<Figures> {
  const deadline = performance.now() + SECONDS * 1000;
  const tally: Tally = { latenciesMs: [], failures: 0 };
  const started = performance.now();
  await Promise.all(Array.from({ length: clients }, () => client(deadline, tally)));
  return { conversions: tally.latenciesMs.length, seconds: (performance.now() - started) / 1000, ...tally };
}

function runOneShot(port: number): Promise<Figures> {
  return timed(ONE_SHOT_CLIENTS, async (deadline, tally) => {
    while (performance.now() < deadline) {
      try {
        tally.latenciesMs.push(await oneShot(port));
      } catch {
        tally.failures++;
      }
    }
  });
}

function runPersistent(port: number): Promise<Figures> {
  return timed(
    PERSISTENT_CLIENTS,
    (deadline, tally) =>
      new Promise<void>((resolve, reject) => {
        const socket = connect({ port, host: '127.0.0.1', noDelay: true });
        socket.setEncoding('utf8');
        let lines = 0;
        let sentAt = 0;
        const next = (): void => {
          if (performance.now() >= deadline) {
            socket.destroy();
            resolve();
            return;
          }
          sentAt = performance.now();
          socket.write('in ft 30\n');
        };
        socket.on('error', reject);
        readLines(socket, (line) => {
          lines++;
          if (lines === 1) socket.write('PERSIST\n');
          else if (lines === 2) next();
          else {
            if (line === '2.5') tally.latenciesMs.push(performance.now() - sentAt);
            else tally.failures++;
            next();
          }
        });
      }),
  );
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;
}

function report(name: string, figures: Figures): number {
  const sorted = [...figures.latenciesMs].sort((a, b) => a - b);
  const rate = figures.conversions / figures.seconds;
  console.log(
    `${name.padEnd(34)} ${rate.toFixed(0).padStart(7)} conversions/s   ` +
      `p50 ${percentile(sorted, 50).toFixed(2)} ms   p99 ${percentile(sorted, 99).toFixed(2)} ms   failures ${figures.failures}`,
  );
  return rate;
}

const server = await startServer(APP.converter, ['0', '--pair', 'ft:in', '--no-register', '--max-connections', '1024']);
try {
  console.log(`converter benchmark: ${SECONDS} s per mode, loopback, node ${process.version}`);
  const oneShotRate = report(`one-shot, ${ONE_SHOT_CLIENTS} clients`, await runOneShot(server.port));
  const persistentRate = report(`persistent, ${PERSISTENT_CLIENTS} clients in lock step`, await runPersistent(server.port));
  console.log(`persistent / one-shot: ${(persistentRate / oneShotRate).toFixed(1)}x`);
} finally {
  await stopAll();
}
