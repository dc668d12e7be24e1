import {
  type Endpoint,
  type Failure,
  classifyConverterReply,
  failure,
  formatAddress,
} from '@conv/protocol';

/**
 * What one converter's answer means for the path:
 * - `amount`: the hop's result, fed into the next hop;
 * - `failed`: the converter refused the request itself (bad amount, unknown unit...): the
 *   client gets one UPSTREAM_FAILED line quoting it;
 * - `dead`: the endpoint is not the converter discovery says it is (WRONG_PAIR: a stale
 *   registration) or answers nonsense: report it and fail over;
 * - `busy`: the converter is healthy but refused this connection (at its connection limit,
 *   or it timed out an idle pooled connection): try another endpoint, report nothing.
 */
export type HopVerdict =
  | { kind: 'amount'; amount: number }
  | { kind: 'failed'; failure: Failure }
  | { kind: 'dead'; reason: string }
  | { kind: 'busy'; reason: string };

/** One classifier for every reader of a converter's reply (discovery's probe reads it the same way). */
export function judgeHopReply(line: string): HopVerdict {
  const reply = classifyConverterReply(line);
  switch (reply.kind) {
    case 'amount':
      return reply;
    case 'busy':
      return { kind: 'busy', reason: `answered ${reply.failure.code}` };
    case 'refused':
      return { kind: 'failed', failure: reply.failure };
    case 'not-serving':
      return { kind: 'dead', reason: reply.reason };
  }
}

/** The line a client gets when a hop's converter refused the request. */
export function upstreamFailure(hop: readonly [string, string], endpoint: Endpoint, said: Failure): Failure {
  return failure('UPSTREAM_FAILED', `hop ${hop[0]}->${hop[1]} at ${formatAddress(endpoint)} said: ${said.message} [${said.code}]`);
}

export function unavailableHop(hop: readonly [string, string]): Failure {
  return failure('UNAVAILABLE', `No live server converts ${hop[0]} <-> ${hop[1]}.`);
}
