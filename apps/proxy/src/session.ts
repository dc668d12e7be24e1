import { type ConversionRequest, type FailureCode, PERSIST_ACK, failure, formatFailure, formatGreeting, parseConversionCommand } from '@conv/protocol';
import type { ConnectionMode, LineSession } from '@conv/server';

/** A request answered: what came of it (`ok` or the FAILURE code) and the reply's bytes. */
export type Answered = { readonly outcome: 'ok' | FailureCode; readonly text: string };

/** The reply to a request; with `trace`, one HOP line per conversion comes before the answer. */
export type Answer = (request: ConversionRequest, options?: { trace?: boolean }) => Promise<Answered>;

/**
 * One client connection's conversation, without the socket: the course's exchange (one
 * request, one answer, close) or, after `PERSIST`, one answer per request line until the
 * client leaves. The proxy's policies live in `answer`.
 */
export function createProxySession(answer: Answer): LineSession {
  let mode: ConnectionMode = 'single';
  return {
    greeting: formatGreeting({ role: 'proxy' }),
    get mode() {
      return mode;
    },
    handle(line: string): string | Promise<string> {
      const command = parseConversionCommand(line);
      if (!command.ok) return formatFailure(command.failure);
      if (command.value.kind === 'persist') {
        mode = 'persistent';
        // Persistence, without tags (`PERSIST TAGGED` included): the ack says which was granted.
        return `${PERSIST_ACK}\n`;
      }
      return answer(command.value.request, { trace: command.value.kind === 'trace' }).then((answered) => answered.text, () =>
        formatFailure(failure('INTERNAL', 'the proxy could not answer this request; it keeps serving.')),
      );
    },
  };
}
