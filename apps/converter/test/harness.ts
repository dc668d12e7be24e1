import { execFile } from 'node:child_process';
import { type Server, type Socket, createServer } from 'node:net';
import {
  type DiscoveryReply,
  type DiscoveryRequest,
  type ListedRegistration,
  LineSplitter,
  createDiscoveryReplyReader,
  formatDiscoveryReply,
  formatFailure,
  parseDiscoveryRequest,
} from '@conv/protocol';
import { APP, LineClient } from '@conv/testkit';

export { freePort } from '@conv/testkit';

/** Runs the built converter to its exit (for refusals: bad flags, port in use, --help). */
export function runConverter(args: readonly string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [APP.converter, ...args], { timeout: 10_000 }, (error, stdout, stderr) => {
      const code = error ? (typeof error.code === 'number' ? error.code : null) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}

/**
 * A stand-in discovery server for behaviour the real one cannot be made to show on demand
 * (a greeting line, a scripted ENTRY_EXISTS). It speaks the protocol through @conv/protocol
 * and records every request line it receives.
 */
export type FakeDiscovery = {
  readonly port: number;
  /** Every request line received, in order, FEATURES included. */
  readonly requests: string[];
  /** The same without the FEATURES and SESSION exchanges: the registration's own requests. */
  readonly changes: () => string[];
  /** Connections accepted so far. */
  readonly connections: () => number;
  close(): Promise<void>;
};

export async function startFakeDiscovery(
  options: {
    port?: number;
    greeting?: string;
    /** Accept connections and read requests, but never answer (a hung discovery server). */
    silent?: boolean;
    /**
     * What FEATURES answers: conv's discovery lists `session` (the default), and `session lease`
     * when it takes leases (`leased`); `course`, a server of another team, answers it with a failure.
     */
    features?: 'conv' | 'course' | 'leased';
    /** The reply to every other request (a raw line, for another team's dialect); `index` counts them, FEATURES left out. */
    reply?: (request: DiscoveryRequest, index: number) => DiscoveryReply | string;
  } = {},
): Promise<FakeDiscovery> {
  const requests: string[] = [];
  const sockets = new Set<Socket>();
  const reply = options.reply ?? ((): DiscoveryReply | string => ({ kind: 'success' }));
  const write = (answer: DiscoveryReply | string): string => (typeof answer === 'string' ? `${answer}\n` : formatDiscoveryReply(answer));
  const features: DiscoveryReply =
    options.features === 'course'
      ? { kind: 'failure', failure: { code: 'UNSPECIFIED', message: 'unknown command' } }
      : { kind: 'features', features: options.features === 'leased' ? ['session', 'lease'] : ['session'] };
  const changes = (): string[] => requests.filter((line) => line !== 'FEATURES' && line !== 'SESSION');
  let connections = 0;
  const server: Server = createServer((socket) => {
    connections++;
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => undefined);
    if (options.greeting) socket.write(`${options.greeting}\n`);
    const splitter = new LineSplitter();
    socket.on('data', (chunk: Buffer) => {
      for (const framed of splitter.push(chunk)) {
        if (!framed.ok) {
          socket.write(formatFailure(framed.failure));
          continue;
        }
        requests.push(framed.line);
        if (options.silent) continue;
        const request = parseDiscoveryRequest(framed.line);
        if (!request.ok) socket.write(formatFailure(request.failure));
        else if (request.value.verb === 'FEATURES') socket.write(formatDiscoveryReply(features));
        else if (request.value.verb === 'SESSION' && options.features === 'leased') socket.write(formatDiscoveryReply({ kind: 'session' }));
        else socket.write(write(reply(request.value, changes().length - 1)));
      }
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, '127.0.0.1', () => resolve());
  });
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('no port');
  return {
    port: address.port,
    requests,
    changes,
    connections: () => connections,
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}

/** Asks a discovery server for LIST and reads the whole reply with @conv/protocol. */
export async function listRegistrations(port: number): Promise<ListedRegistration[]> {
  const client = await LineClient.connect(port);
  try {
    const reader = createDiscoveryReplyReader('LIST');
    client.send('LIST');
    for (;;) {
      const line = await client.nextLine();
      if (/^HELLO\b/.test(line)) continue;
      const step = reader.push(line);
      if (!step.done) continue;
      if (step.reply.kind !== 'list') throw new Error(`LIST answered ${line}`);
      return step.reply.registrations;
    }
  } finally {
    client.close();
  }
}

/** The registration of host:port in a LIST, written `a b health` with the units sorted. */
export async function registrationOf(discoveryPort: number, port: number, host = '127.0.0.1'): Promise<string | undefined> {
  const found = (await listRegistrations(discoveryPort)).filter((r) => r.endpoint.host === host && r.endpoint.port === port);
  if (found.length > 1) throw new Error(`${host}:${port} is listed ${found.length} times`);
  const [entry] = found;
  return entry && `${[...entry.units].sort().join(' ')} ${entry.health}`;
}
