import type { ConnectionMode, LineSession } from '@conv/server';
import { PERSIST_ACK, PERSIST_TAGGED_ACK, failure, formatConversionReply, formatFailure, formatGreeting, parseConversionCommand, splitTag } from '@conv/protocol';
import type { PairConversion } from './pair';

/**
 * One client's conversation with a converter, without a socket: the course's one request per
 * connection, or, after `PERSIST`, one answer per line until the client leaves. After
 * `PERSIST TAGGED`, an answer carries the tag its request came with (the proxy pipelines on it).
 */
/** A converter answers at once: its replies are never promises. */
export type ConverterSession = Omit<LineSession, 'handle'> & { handle(line: string): string };

export function createSession(conversion: PairConversion): ConverterSession {
  let mode: ConnectionMode = 'single';
  let tagged = false;
  return {
    greeting: formatGreeting({ role: 'converter', units: [conversion.units[0], conversion.units[1]] }),
    get mode() {
      return mode;
    },
    handle(line: string): string {
      if (!tagged) return answer(line);
      const { tag, rest } = splitTag(line);
      return tag === undefined ? answer(line) : `${tag} ${answer(rest)}`;
    },
  };

  function answer(line: string): string {
    const command = parseConversionCommand(line);
    if (!command.ok) return formatFailure(command.failure);
    if (command.value.kind === 'persist') {
      mode = 'persistent';
      tagged ||= command.value.tagged;
      return `${command.value.tagged ? PERSIST_TAGGED_ACK : PERSIST_ACK}\n`;
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
  }
}
