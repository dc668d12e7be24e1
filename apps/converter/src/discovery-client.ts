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
