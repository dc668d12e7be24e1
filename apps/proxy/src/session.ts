import {
  type ConversionRequest,
  type FramedLine,
  PERSIST_ACK,
  failure,
  formatFailure,
  formatGreeting,
  parseConversionCommand,
} from '@conv/protocol';

/** What the connection does after a line: write `reply`, then close or keep reading. */
export type SessionStep = { reply: string; close: boolean };

/** The reply to a request; with `trace`, one HOP line per conversion comes before the answer. */
export type Answer = (request: ConversionRequest, options?: { trace?: boolean }) => Promise<string>;

/**
 * One client connection's conversation, without the socket: the course's exchange (one
 * request, one answer, close) or, after `PERSIST`, one answer per request line until the
 * client leaves. The proxy's policies live in `answer`.
 */
export class ProxySession {
  #persistent = false;

  constructor(private readonly answer: Answer) {}

  greeting(): string {
    return formatGreeting({ role: 'proxy' });
  }

  get persistent(): boolean {
    return this.#persistent;
  }

  async handle(framed: FramedLine): Promise<SessionStep> {
    if (!framed.ok) {
      // After a line too long the stream is out of step with the client: always close.
      return { reply: formatFailure(framed.failure), close: !this.#persistent || framed.failure.code === 'LINE_TOO_LONG' };
    }
    const command = parseConversionCommand(framed.line);
    if (!command.ok) return { reply: formatFailure(command.failure), close: !this.#persistent };
    if (command.value.kind === 'persist') {
      this.#persistent = true;
      return { reply: `${PERSIST_ACK}\n`, close: false };
    }
    let reply: string;
    try {
      reply = await this.answer(command.value.request, { trace: command.value.kind === 'trace' });
    } catch {
      reply = formatFailure(failure('INTERNAL', 'the proxy could not answer this request; it keeps serving.'));
    }
    return { reply, close: !this.#persistent };
  }
}
