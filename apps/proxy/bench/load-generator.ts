/**
 * The benchmark's load generator, run in its own process so it does not share an event loop
 * with what it measures. Course-protocol clients, one conversion per connection: connect, read
 * the greeting, send the request, read the answer, close. `concurrency` clients loop for
 * `warmupMs + durationMs`; only the last `durationMs` count.
 *
 * argv: <port> <request line> <expected answer> <concurrency> <warmupMs> <durationMs>
 * stdout: one JSON line { conversions, errors, refused, over5s, seconds, p50Ms, p99Ms, firstError }
 * A `TOO_MANY_CONNECTIONS` answer, or a connection closed or reset before any line, is a
 * refusal: counted apart from errors, since a server that sheds load at once is behaving.
 * `over5s` counts conversions that took longer than five seconds.
 * stderr: progress, one line a second
 */
import { connect } from 'node:net';

const [portText = '', request = '', expected = '', concurrencyText = '16', warmupText = '1000', durationText = '5000'] = process.argv.slice(2);
const port = Number(portText);
const concurrency = Number(concurrencyText);
const warmupMs = Number(warmupText);
const durationMs = Number(durationText);

type Outcome = { ok: boolean; refused: boolean; ms: number; error?: string };

function once(): Promise<Outcome> {
  const started = performance.now();
  return new Promise((resolve) => {
    const socket = connect({ port, host: '127.0.0.1', noDelay: true });
    let buffer = '';
    let greeted = false;
    let settled = false;
    const settle = (ok: boolean, error?: string, refused = false) => {
      if (settled) return;
      settled = true;
      socket.destroy();
      resolve({ ok, refused, ms: performance.now() - started, ...(error ? { error } : {}) });
    };
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => {
      buffer += chunk;
      for (let newline = buffer.indexOf('\n'); newline >= 0; newline = buffer.indexOf('\n')) {
        const line = buffer.slice(0, newline).trim();
        buffer = buffer.slice(newline + 1);
        if (line.includes('TOO_MANY_CONNECTIONS')) {
          settle(false, 'TOO_MANY_CONNECTIONS', true);
          return;
        }
        if (!greeted) {
          greeted = true;
          socket.write(`${request}\n`);
        } else {
          settle(line === expected, line === expected ? undefined : `answer ${JSON.stringify(line)}`);
          return;
        }
      }
    });
    socket.on('error', (error) => settle(false, error.message, !greeted));
    socket.on('close', () => settle(false, 'closed without an answer', !greeted));
  });
}

const start = performance.now();
const measureFrom = start + warmupMs;
const end = measureFrom + durationMs;
const latencies: number[] = [];
let errors = 0;
let refused = 0;
let firstError: string | undefined;

const progress = setInterval(() => {
  const now = performance.now();
  const phase = now < measureFrom ? 'warming up' : `${latencies.length} conversions`;
  process.stderr.write(`  ${((now - start) / 1000).toFixed(0)}s: ${phase}${errors ? `, ${errors} errors` : ''}\n`);
}, 1000);

async function client(): Promise<void> {
  while (performance.now() < end) {
    const result = await once();
    if (performance.now() < measureFrom) continue;
    if (result.ok) latencies.push(result.ms);
    else if (result.refused) refused++;
    else {
      errors++;
      firstError ??= result.error;
    }
  }
}

await Promise.all(Array.from({ length: concurrency }, () => client()));
clearInterval(progress);
latencies.sort((a, b) => a - b);
const at = (q: number) => latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))] ?? NaN;
const seconds = durationMs / 1000;
const over5s = latencies.filter((ms) => ms > 5000).length;
process.stdout.write(`${JSON.stringify({ conversions: latencies.length, errors, refused, over5s, seconds, p50Ms: at(0.5), p99Ms: at(0.99), firstError })}\n`);
