import {
  type DiscoveryReply,
  type DiscoveryRequest,
  type Endpoint,
  type Result,
  createDiscoveryReplyReader,
  fail,
  formatDiscoveryRequest,
  ok,
} from '@conv/protocol';
import { exchangeLines } from './line-exchange';

/** Sends one request to a discovery server on a fresh connection and reads its whole reply. */
export async function askDiscovery(
  discovery: Endpoint,
  request: DiscoveryRequest,
  timeoutMs = 2000,
): Promise<Result<DiscoveryReply>> {
  const reader = createDiscoveryReplyReader(request.verb);
  let reply: DiscoveryReply | undefined;
  let read = 0;
  const lines = await exchangeLines(
    discovery,
    formatDiscoveryRequest(request),
    (got) => {
      // Several lines may arrive in one chunk: feed the reader every one not yet read.
      while (reply === undefined && read < got.length) {
        const step = reader.push(got[read++] ?? '');
        if (step.done) reply = step.reply;
      }
      return reply !== undefined;
    },
    timeoutMs,
  );
  if (!lines.ok) return lines;
  return reply ? ok(reply) : fail('UNAVAILABLE', `discovery closed before finishing its reply to ${request.verb}.`);
}
