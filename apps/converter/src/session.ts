import type { ConnectionMode, LineSession } from '@conv/server';
import { PERSIST_ACK, failure, formatConversionReply, formatFailure, formatGreeting, parseConversionCommand } from '@conv/protocol';
import type { PairConversion } from './pair';

/**
 * One client's conversation with a converter, without a socket: the course's one request per
 * connection, or, after `PERSIST`, one answer per line until the client leaves.
 */
/** A converter answers at once: its replies are never promises. */
export type ConverterSession = Omit<LineSession, 'handle'> & { handle(line: string): string };

export function createSession(conversion: PairConversion): ConverterSession {
  let mode: ConnectionMode = 'single';
  return {
    greeting: formatGreeting({ role: 'converter', units: [conversion.units[0], conversion.units[1]] }),
    get mode() {
      return mode;
    },
    handle(line: string): string {
      const command = parseConversionCommand(line);
      if (!command.ok) return formatFailure(command.failure);
      if (command.value.kind === 'persist') {
        mode = 'persistent';
        return `${PERSIST_ACK}\n`;
      }
      if (command.value.kind === 'trace') {
        // Only the proxy traces (docs/protocol.md): to a converter `TRACE ft in 1` is four tokens.
        return formatFailure(failure('BAD_ARITY', 'a request is "<from> <to> <amount>", e.g. "ft in 1.25"; got 4 tokens (TRACE is answered by the proxy, not by a converter).'));
      }
      const { from, to, amount } = command.value.request;
      const result = conversion.convert(from, to, amount);
      return result.ok
        ? formatConversionReply({ kind: 'amount', amount: result.value })
        : formatConversionReply({ kind: 'failure', failure: result.failure });
    },
  };
}
