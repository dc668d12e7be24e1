import { connect } from 'node:net';
import { type Endpoint, LineSplitter, type Result, fail, ok } from '@conv/protocol';
import { formatAddress } from './address';

/**
 * Connects, sends `text`, and collects reply lines until `isComplete` says so, the server
 * closes, or `timeoutMs` passes. Every way of failing becomes a Result, never a throw.
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
    const socket = connect({ host: server.host, port: server.port });
    const finish = (result: Result<string[]>) => {
      clearTimeout(timer);
      socket.destroy();
      resolve(result);
    };
    const timer = setTimeout(
      () => finish(fail('UNAVAILABLE', `${formatAddress(server)} did not answer within ${timeoutMs} ms.`)),
      timeoutMs,
    );
    socket.on('connect', () => socket.write(text));
    socket.on('data', (chunk) => {
      for (const framed of splitter.push(chunk)) {
        if (framed.ok) lines.push(framed.line);
      }
      if (isComplete(lines)) finish(ok(lines));
    });
    socket.on('end', () => {
      for (const framed of splitter.end()) if (framed.ok) lines.push(framed.line);
      finish(ok(lines));
    });
    socket.on('error', (error: NodeJS.ErrnoException) => {
      const why = error.code === 'ECONNREFUSED' ? 'nothing is listening there' : (error.code ?? error.message);
      finish(fail('UNAVAILABLE', `cannot reach ${formatAddress(server)}: ${why}.`));
    });
  });
}
