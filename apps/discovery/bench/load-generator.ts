// A closed-loop load generator, run as its own process: each connection sends a request,
// waits for the whole reply, sends the next. Prints one JSON line with the figures.
import { connect, type Socket } from 'node:net';
import { readLines } from '@conv/testkit';

const [port = '0', mode = 'lookup', connectionsText = '1', durationText = '2000', warmupText = '300', requestsText = ''] = process.argv.slice(2);
const connections = Number(connectionsText);
const durationMs = Number(durationText);
const warmupMs = Number(warmupText);
// Requests to cycle through, separated by '|'.
const requests = requestsText.split('|').map((r) => `${r}\n`);

/** A reply is complete at its last line: LOOKUP's one line; a path's line ending in " 1"; any FAILURE. */
const isLast =
  mode === 'multi' ? (line: string) => line.endsWith(' 1') || line.startsWith('FAILURE') : () => true;

const latencies: number[] = [];
let measuring = false;
let stopped = false;
let completed = 0;
let failures = 0;

function drive(socket: Socket, offset: number): Promise<void> {
  return new Promise((resolve) => {
    let next = offset;
    let sentAt = 0n;
    const send = () => {
      if (stopped) {
        socket.destroy();
        resolve();
        return;
      }
      sentAt = process.hrtime.bigint();
      socket.write(requests[next++ % requests.length] ?? 'PING\n');
    };
    socket.setEncoding('utf8');
    readLines(socket, (line) => {
      if (line.startsWith('FAILURE')) failures++;
      if (!isLast(line)) return;
      if (measuring) {
        latencies.push(Number(process.hrtime.bigint() - sentAt) / 1000);
        completed++;
      }
      send();
    });
    socket.on('error', () => resolve());
    send();
  });
}

// Each connection asks for a session first: without one, discovery closes it after each reply.
const sockets = await Promise.all(
  Array.from({ length: connections }, () => new Promise<Socket>((resolve, reject) => {
    const socket = connect({ port: Number(port), host: '127.0.0.1', noDelay: true }, () => socket.write('SESSION\n'));
    socket.setEncoding('utf8');
    let granted = '';
    const onData = (chunk: string) => {
      granted += chunk;
      if (!granted.includes('\n')) return;
      socket.off('data', onData);
      if (granted.startsWith('OK session\n')) resolve(socket);
      else reject(new Error(`SESSION answered ${JSON.stringify(granted)}`));
    };
    socket.on('data', onData);
    socket.once('error', reject);
  })),
);
const running = sockets.map((socket, i) => drive(socket, i * 7));
await new Promise((resolve) => setTimeout(resolve, warmupMs));
measuring = true;
const start = process.hrtime.bigint();
await new Promise((resolve) => setTimeout(resolve, durationMs));
measuring = false;
const elapsed = Number(process.hrtime.bigint() - start) / 1e9;
stopped = true;
await Promise.all(running);
latencies.sort((a, b) => a - b);
const at = (q: number) => latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))] ?? 0;
process.stdout.write(`${JSON.stringify({ rps: completed / elapsed, p50us: at(0.5), p99us: at(0.99), completed, failures })}\n`);
