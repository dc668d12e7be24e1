import {
  type FramedLine,
  PERSIST_ACK,
  failure,
  formatConversionReply,
  formatFailure,
  formatGreeting,
  parseConversionCommand,
} from '@conv/protocol';
import type { PairConversion } from './pair';

/** What the shell does after a line: write `reply` (possibly empty), then close if asked. */
export type SessionStep = { readonly reply: string; readonly close: boolean };

/**
 * One client's conversation with a converter, without a socket: the course's one request per
 * connection, or, after `PERSIST`, one answer per line until the client leaves.
 */
export interface ConversionSession {
  /** The line sent on connect. */
  readonly greeting: string;
  readonly mode: 'one-shot' | 'persistent';
  /** Answers one framed line (a line, or the splitter's refusal of one). */
  receive(framed: FramedLine): SessionStep;
}

export function createSession(conversion: PairConversion): ConversionSession {
  let mode: ConversionSession['mode'] = 'one-shot';
  const greeting = formatGreeting({ role: 'converter', units: [conversion.units[0], conversion.units[1]] });
  return {
    greeting,
    get mode() {
      return mode;
    },
    receive(framed: FramedLine): SessionStep {
      const persistent = mode === 'persistent';
      if (!framed.ok) {
        // An over-long line was skipped without being read; the stream may be hostile, so close.
        const close = !persistent || framed.failure.code === 'LINE_TOO_LONG';
        return { reply: formatFailure(framed.failure), close };
      }
      const command = parseConversionCommand(framed.line);
      if (!command.ok) return { reply: formatFailure(command.failure), close: !persistent };
      if (command.value.kind === 'persist') {
        mode = 'persistent';
        return { reply: `${PERSIST_ACK}\n`, close: false };
      }
      const { from, to, amount } = command.value.request;
      const result = conversion.convert(from, to, amount);
      const reply = result.ok
        ? formatConversionReply({ kind: 'amount', amount: result.value })
        : formatConversionReply({ kind: 'failure', failure: result.failure });
      return { reply, close: !persistent };
    },
  };
}

/** The lines a server sends to a client it turns away. */
export const REFUSALS = {
  tooManyConnections: (limit: number) =>
    formatFailure(failure('TOO_MANY_CONNECTIONS', `This server serves at most ${limit} connections at once; try again later.`)),
  idleTimeout: (ms: number) => formatFailure(failure('IDLE_TIMEOUT', `Nothing received for ${ms} ms; closing.`)),
  internal: () => formatFailure(failure('INTERNAL', 'The server could not answer this request; it keeps serving others.')),
} as const;
