import { connect } from 'node:net';
import { type Endpoint, LineSplitter, type Result, fail, formatAddress, ok } from '@conv/protocol';

/**
 * One exchange on a fresh connection, as the course's clients make them: connect, send `text`,
 * collect reply lines until `isComplete` says so, the server closes, or `timeoutMs` passes.
 * Every way of failing is a Result (UNAVAILABLE), never a throw.
 */
export function exchangeLines(
  server: Endpoint,
  text: string,
  isComplete: (lines: readonly string[]) => boolean,
  timeoutMs: number,
): Promise<Result<string[]>> {
  return new Promise((resolve) => {
    const lines: string[] = [];
    const splitter = new LineSplitter({ maxLineBytes: 64 * 1024 });
    const socket = connect({ host: server.host, port: server.port, noDelay: true });
    const finish = (result: Result<string[]>) => {
      clearTimeout(timer);
      socket.destroy();
      resolve(result);
    };
    const timer = setTimeout(() => finish(fail('UNAVAILABLE', `${formatAddress(server)} did not answer within ${timeoutMs} ms.`)), timeoutMs);
    const take = (framed: ReturnType<LineSplitter['push']>): void => {
      for (const line of framed) if (line.ok) lines.push(line.line);
    };
    socket.on('connect', () => socket.write(text));
    socket.on('data', (chunk: Buffer) => {
      take(splitter.push(chunk));
      if (isComplete(lines)) finish(ok(lines));
    });
    socket.on('end', () => {
      take(splitter.end());
      finish(ok(lines));
    });
    socket.on('error', (error: NodeJS.ErrnoException) => {
      const why = error.code === 'ECONNREFUSED' ? 'nothing is listening there' : (error.code ?? error.message);
      finish(fail('UNAVAILABLE', `cannot reach ${formatAddress(server)}: ${why}.`));
    });
  });
}
