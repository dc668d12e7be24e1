import { connect } from 'node:net';
import {
  type DiscoveryReply,
  type DiscoveryRequest,
  type Endpoint,
  type FramedLine,
  LineSplitter,
  createDiscoveryReplyReader,
  formatDiscoveryRequest,
} from '@conv/protocol';
import { ConverterError } from './errors';
import type { Logger } from '@conv/observability';

/**
 * One request to discovery on its own connection, as the seed's converters did it: connect,
 * send one line, read one reply, close. A greeting line starting with HELLO (discovery's
 * --greeting) before the reply is skipped. Rejects with ConverterError DISCOVERY_UNREACHABLE
 * on refusal, reset, timeout or a close before the reply is complete.
 */
export function requestDiscovery(
  discovery: Endpoint,
  request: DiscoveryRequest,
  options: { timeoutMs: number },
): Promise<DiscoveryReply> {
  return new Promise((resolve, reject) => {
    const target = `${discovery.host}:${discovery.port}`;
    const socket = connect({ host: discovery.host, port: discovery.port, noDelay: true });
    const splitter = new LineSplitter();
    const reader = createDiscoveryReplyReader(request.verb);
    let settled = false;
    let linesSeen = 0;

    const settle = (outcome: { reply: DiscoveryReply } | { error: string }): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      if ('reply' in outcome) resolve(outcome.reply);
      else reject(new ConverterError('DISCOVERY_UNREACHABLE', `discovery ${target}: ${outcome.error}`));
    };
    const timer = setTimeout(() => settle({ error: `no reply within ${options.timeoutMs} ms` }), options.timeoutMs);

    socket.on('error', (error: NodeJS.ErrnoException) => settle({ error: error.code ?? error.message }));
    socket.on('close', () => settle({ error: 'closed the connection before replying' }));
    socket.once('connect', () => socket.write(formatDiscoveryRequest(request)));
    const read = (frames: FramedLine[]): void => {
      for (const framed of frames) {
        if (!framed.ok) return settle({ error: `sent an unreadable line (${framed.failure.code})` });
        linesSeen++;
        if (linesSeen === 1 && /^HELLO\b/i.test(framed.line.trim())) continue;
        const step = reader.push(framed.line);
        if (step.done) return settle({ reply: step.reply });
      }
    };
    socket.on('data', (chunk: Buffer) => read(splitter.push(chunk)));
    socket.on('end', () => read(splitter.end()));
  });
}

/**
 * A list of discovery replicas (`--discovery a,b`): each request goes to the replica that
 * answered last; when it is unreachable the next ones are tried in turn, within the same
 * request, and the first that answers becomes the current one. Every replica unreachable:
 * the request fails as with one address (the registration retries with backoff).
 */
export class DiscoveryReplicas {
  readonly #addresses: readonly Endpoint[];
  readonly #log: Logger;
  #current = 0;

  constructor(addresses: readonly Endpoint[], log: Logger) {
    if (addresses.length === 0) throw new ConverterError('USAGE', 'at least one discovery address is needed');
    this.#addresses = addresses;
    this.#log = log;
  }

  /** The replica requests go to now. */
  get current(): Endpoint {
    return this.#addresses[this.#current] ?? this.#addresses[0]!;
  }

  async request(request: DiscoveryRequest, timeoutMs: number): Promise<DiscoveryReply> {
    let lastError: unknown;
    for (let tried = 0; tried < this.#addresses.length; tried++) {
      const index = (this.#current + tried) % this.#addresses.length;
      const address = this.#addresses[index]!;
      try {
        const reply = await requestDiscovery(address, request, { timeoutMs });
        if (index !== this.#current) {
          this.#log.info('discovery-failover', { from: label(this.current), to: label(address) });
          this.#current = index;
        }
        return reply;
      } catch (error) {
        lastError = error;
      }
    }
    throw lastError instanceof Error ? lastError : new ConverterError('DISCOVERY_UNREACHABLE', String(lastError));
  }
}

function label(endpoint: Endpoint): string {
  return endpoint.host.includes(':') ? `[${endpoint.host}]:${endpoint.port}` : `${endpoint.host}:${endpoint.port}`;
}
