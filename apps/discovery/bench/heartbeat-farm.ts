// Many heartbeating conversion servers in one process, for lease-scale.bench.ts. Each endpoint
// has a listening socket of its own (on its own 127.x.y.z address, a thousand ports apiece, so
// that 100,000 of them fit in 127.0.0.0/8) and answers the conversion protocol right for its
// pair, so discovery's answer-checking probes pass. Every endpoint re-announces itself with an
// ADD (with `lease=` when the driver says the server has leases) every announce interval, spread
// evenly over it, pipelined over a few SESSION connections: never a connection per endpoint.
//
// stdin: one JSON line of configuration, then commands, one a line:
//   kill <i> ...    stop announcing endpoint i and close its listener and its connections, as a
//                   SIGKILLed converter would; answers `KILLED <i> <epoch ms> <its last ADD written, epoch ms>`
//   revive <i> ...  listen again on the same address and announce again; answers `REVIVED <i>`
// stdout: `READY <json [[host, port], ...]>`, the answers above, and `STATS <json>` every 2 s.
import { type Server, type Socket, connect, createServer } from 'node:net';
import { createInterface } from 'node:readline';
import { readLines } from '@conv/testkit';

type Spec = { a: string; b: string; host: string };
type FarmConfig = { discoveryPort: number; endpoints: Spec[]; firstPort: number; lease: string | null; announceMs: number; sessions: number; startPerSecond: number };
type Endpoint = { spec: Spec; port: number; server: Server | undefined; sockets: Set<Socket>; alive: boolean; announce: string; announcedAt: number };

/** Every pair converts by this factor (units the catalog does not know: discovery checks the inverse and stability). */
const FACTOR = 2.54;
const TICK_MS = 50;
const PORTS_TRIED = 5000;

const out = (line: string) => process.stdout.write(`${line}\n`);
const lines = createInterface({ input: process.stdin })[Symbol.asyncIterator]();
const first = await lines.next();
const config = JSON.parse(String(first.value)) as FarmConfig;

function answer(spec: Spec, request: string): string {
  const [from, to, amountText] = request.trim().split(/\s+/);
  const amount = Number(amountText);
  if (amountText === undefined || !Number.isFinite(amount)) return 'FAILURE bad request. Send "<from> <to> <amount>". (BAD_REQUEST)\n';
  if (from === spec.a && to === spec.b) return `${amount * FACTOR}\n`;
  if (from === spec.b && to === spec.a) return `${amount / FACTOR}\n`;
  return `FAILURE unknown unit. This server converts ${spec.a} and ${spec.b} only. (UNKNOWN_UNIT)\n`;
}

function listen(endpoint: Endpoint, port: number): Promise<boolean> {
  const server = createServer((socket) => {
    endpoint.sockets.add(socket);
    socket.on('close', () => endpoint.sockets.delete(socket));
    socket.on('error', () => undefined);
    socket.setEncoding('latin1');
    socket.write(`HELLO converter ${endpoint.spec.a} ${endpoint.spec.b} - send "<from> <to> <amount>"\n`);
    let buffer = '';
    socket.on('data', (chunk: string) => {
      buffer += chunk;
      const newline = buffer.indexOf('\n');
      if (newline >= 0) socket.end(answer(endpoint.spec, buffer.slice(0, newline)));
      else if (buffer.length > 1024) socket.destroy();
    });
  });
  return new Promise((resolve, reject) => {
    server.once('error', (error: NodeJS.ErrnoException) => (error.code === 'EADDRINUSE' ? resolve(false) : reject(error)));
    server.listen({ host: endpoint.spec.host, port, backlog: 64 }, () => {
      endpoint.server = server;
      endpoint.port = port;
      resolve(true);
    });
  });
}

// Ports per address from firstPort up, below the ephemeral range; one taken by someone else is skipped.
const nextPort = new Map<string, number>();
const endpoints: Endpoint[] = [];
for (const spec of config.endpoints) {
  const endpoint: Endpoint = { spec, port: 0, server: undefined, sockets: new Set(), alive: true, announce: '', announcedAt: 0 };
  let port = nextPort.get(spec.host) ?? config.firstPort;
  while (!(await listen(endpoint, port))) {
    if (++port >= config.firstPort + PORTS_TRIED) throw new Error(`no free port on ${spec.host}`);
  }
  nextPort.set(spec.host, port + 1);
  endpoint.announce = `ADD ${spec.a} ${spec.b} ${spec.host} ${endpoint.port}${config.lease === null ? '' : ` lease=${config.lease}`}\n`;
  endpoints.push(endpoint);
}
out(`READY ${JSON.stringify(endpoints.map((e) => [e.spec.host, e.port]))}`);

const stats = { sent: 0, ok: 0, failed: 0, failures: {} as Record<string, number>, queuedBytes: 0, reconnects: 0 };

function openSession(): Socket {
  const socket = connect({ host: '127.0.0.1', port: config.discoveryPort, noDelay: true });
  socket.setEncoding('latin1');
  socket.write('SESSION\n');
  let granted = false;
  readLines(socket, (line) => {
    if (!granted) {
      granted = true;
      return;
    }
    if (line === 'SUCCESS') stats.ok++;
    else {
      stats.failed++;
      const code = /\(([A-Z_]+)\)$/.exec(line)?.[1] ?? line.slice(0, 40);
      stats.failures[code] = (stats.failures[code] ?? 0) + 1;
    }
  });
  socket.on('error', () => undefined);
  return socket;
}

const sessions: Socket[] = Array.from({ length: config.sessions }, openSession);
for (const [i, socket] of sessions.entries()) {
  const reopen = () => {
    if (stopping) return;
    stats.reconnects++;
    const next = openSession();
    sessions[i] = next;
    next.once('close', reopen);
  };
  socket.once('close', reopen);
}
let stopping = false;

// Endpoint i announces in slot i of the turn, so announcements are spread evenly over the
// interval; slots follow the clock, not the count of timer callbacks, so a farm starved of CPU
// by a busy machine catches up instead of announcing less often than it promised.
const slots = Math.max(1, Math.round(config.announceMs / TICK_MS));
const started = performance.now();
let slotsDone = 0;
const announcer = setInterval(() => {
  const elapsed = performance.now() - started;
  const due = Math.floor(elapsed / TICK_MS);
  // Converters start over time, not all in one instant: endpoint i makes its first ADD i / rate s in.
  const begun = Math.min(endpoints.length, Math.floor((elapsed / 1000) * config.startPerSecond) + 1);
  const batches = sessions.map(() => '');
  for (; slotsDone <= due; slotsDone++) {
    for (let i = slotsDone % slots; i < begun; i += slots) {
      const endpoint = endpoints[i];
      if (!endpoint?.alive) continue;
      batches[i % sessions.length] += endpoint.announce;
      endpoint.announcedAt = Date.now();
      stats.sent++;
    }
  }
  for (const [s, batch] of batches.entries()) if (batch !== '') sessions[s]?.write(batch);
}, TICK_MS);

const reporter = setInterval(() => {
  stats.queuedBytes = sessions.reduce((sum, socket) => sum + socket.writableLength, 0);
  out(`STATS ${JSON.stringify(stats)}`);
}, 2000);

function kill(i: number): void {
  const endpoint = endpoints[i];
  if (!endpoint?.alive) return;
  endpoint.alive = false;
  endpoint.server?.close();
  endpoint.server = undefined;
  for (const socket of endpoint.sockets) socket.destroy();
  out(`KILLED ${i} ${Date.now()} ${endpoint.announcedAt}`);
}

async function revive(i: number): Promise<void> {
  const endpoint = endpoints[i];
  if (!endpoint || endpoint.alive) return;
  if (!(await listen(endpoint, endpoint.port))) throw new Error(`port ${endpoint.spec.host}:${endpoint.port} taken while the endpoint was dead`);
  endpoint.alive = true;
  out(`REVIVED ${i}`);
}

function stop(): void {
  stopping = true;
  clearInterval(announcer);
  clearInterval(reporter);
  process.exit(0);
}
process.on('SIGTERM', stop);
process.on('SIGINT', stop);

for (;;) {
  const next = await lines.next();
  if (next.done) break;
  const [verb, ...indexes] = String(next.value).trim().split(/\s+/);
  for (const i of indexes.map(Number)) {
    if (verb === 'kill') kill(i);
    else if (verb === 'revive') await revive(i);
  }
}
// The driver went away (stdin closed): a farm never outlives it.
stop();
