import { type Socket, connect } from 'node:net';
import { LineSplitter, formatConversionRequest, parseConversionReply } from '@conv/protocol';
import type { Endpoint, UnitPair } from '@conv/registry';

const CLOSE_GRACE_MS = 200;

export type ProbeResult = { ok: true } | { ok: false; reason: string };

/** Checks one endpoint; resolves (never rejects) with the verdict. */
export type Prober = (endpoint: Endpoint, pair: UnitPair) => Promise<ProbeResult>;

/** Lines a server may send before its answer (a greeting of any wording, before or after reading). */
const MAX_LINES_BEFORE_ANSWER = 3;

/**
 * A real conversion exchange with the endpoint: connect, send `<u1> <u2> 1` for the endpoint's
 * own pair at once (no greeting awaited: some course servers send none), skip any line that is
 * not an answer (a greeting, sent before or after reading), and require a number. A port now
 * used by some other program, or by a converter of another pair, fails it, which a bare TCP
 * connect would not notice. Waits for the server to close first, so TIME_WAIT stays on its side.
 */
export function createConversionProber(options: { timeoutMs: number }): Prober {
  const { timeoutMs } = options;
  return (endpoint, pair) =>
    new Promise<ProbeResult>((resolve) => {
      let verdict: ProbeResult | undefined;
      let skipped = 0;
      let socket: Socket;
      const splitter = new LineSplitter({ maxLineBytes: 1024 });
      const finish = (result: ProbeResult) => {
        clearTimeout(timer);
        socket.destroy();
        resolve(verdict ?? result);
      };
      let timer = setTimeout(() => finish({ ok: false, reason: `no answer within ${timeoutMs} ms` }), timeoutMs);
      try {
        socket = connect({ host: endpoint.host, port: endpoint.port });
      } catch (error) {
        clearTimeout(timer);
        resolve({ ok: false, reason: error instanceof Error ? error.message : String(error) });
        return;
      }
      socket.setNoDelay(true);
      socket.on('error', (error: NodeJS.ErrnoException) => finish({ ok: false, reason: error.code ?? error.message }));
      socket.on('close', () => finish({ ok: false, reason: 'closed before answering' }));
      socket.once('connect', () => socket.write(formatConversionRequest({ from: pair[0], to: pair[1], amount: 1 })));
      socket.on('data', (chunk: Buffer) => {
        if (verdict !== undefined) return;
        for (const framed of splitter.push(chunk)) {
          if (!framed.ok) {
            verdict = { ok: false, reason: framed.failure.message };
          } else {
            const reply = parseConversionReply(framed.line);
            if (!reply.ok && ++skipped <= MAX_LINES_BEFORE_ANSWER) continue;
            verdict = reply.ok && reply.value.kind === 'amount' ? { ok: true } : { ok: false, reason: `answered ${JSON.stringify(framed.line.slice(0, 60))}` };
          }
          if (!verdict.ok) {
            finish(verdict);
          } else {
            // Give the server a moment to close first (course servers do, right after answering).
            clearTimeout(timer);
            timer = setTimeout(() => finish({ ok: true }), CLOSE_GRACE_MS);
          }
          return;
        }
      });
    });
}
