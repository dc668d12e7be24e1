import { readFileSync } from 'node:fs';
import type { RawClient } from './hostile';
import { waitFor } from './wait-for';

/**
 * A TCP socket's queues from /proc/net/tcp{,6}: `rx` received and not yet read by its process, `tx`
 * sent and not yet acknowledged (or not yet sent). `open`: this side has not closed, ESTABLISHED or
 * CLOSE_WAIT. A client that half-closes after its last byte is in CLOSE_WAIT on the server's side
 * as soon as its FIN arrives, which the kernel takes while the server still leaves bytes unread.
 */
type Queues = { readonly rx: number; readonly tx: number; readonly open: boolean };

const ESTABLISHED = '01';
const CLOSE_WAIT = '08';

/** Every open TCP socket's queues (Linux), by `<local port>-<remote port>`: one read of the kernel's tables per poll. */
function socketTable(): Map<string, Queues> {
  const sockets = new Map<string, Queues>();
  for (const table of ['/proc/net/tcp', '/proc/net/tcp6']) {
    let text: string;
    try {
      text = readFileSync(table, 'utf8');
    } catch {
      continue;
    }
    for (const row of text.split('\n').slice(1)) {
      const [, local, remote, state, queues] = row.trim().split(/\s+/);
      // A closed connection that used the same ports before (TIME_WAIT) is not this one; nor is a listener.
      if (local === undefined || remote === undefined || queues === undefined || state === '06' || state === '0A') continue;
      const port = (address: string) => Number.parseInt(address.slice(address.lastIndexOf(':') + 1), 16);
      const [tx, rx] = queues.split(':').map((field) => Number.parseInt(field, 16));
      sockets.set(`${port(local)}-${port(remote)}`, { rx: rx ?? 0, tx: tx ?? 0, open: state === ESTABLISHED || state === CLOSE_WAIT });
    }
  }
  return sockets;
}

/**
 * Waits until the server has stopped reading from `clients`, which have stopped reading their
 * replies. Judged where it happens, on the server's side of each connection (in the kernel's
 * socket table, /proc/net/tcp): bytes that arrived and that the server does not read stay queued
 * (`rx_queue` above 0) and stop changing. (`bytesWritten` on the client cannot tell: it counts
 * bytes still queued on the client too, so it is at its final value at once.) A server that reads
 * everything without waiting for its replies to drain (a backlog in its memory) empties both
 * queues without ever stopping; the wait then fails, naming how many clients it drained. Each
 * client must be seen stalled once (it may be cut for idleness afterwards) or be closed by the server
 * while bytes it sent lay unread. The clients must send more than the server reads before its
 * replies fill the kernels' buffers (megabytes of replies on loopback).
 *
 * `stillPolls` and `intervalMs`: how many polls in a row, how far apart, the server's queue must
 * stay unchanged. The default (4 polls 150 ms apart, half a second) tells a server that stopped
 * reading from one merely slow to read. A test that goes on to read from a client it saw stall
 * asks for fewer and closer polls: the server's idle timeout (2 s in the hostile suites) cuts a
 * stalled client, and on a busy machine polls come late.
 */
export async function waitUntilStalled(clients: readonly RawClient[], what: string, options: { timeoutMs?: number; stillPolls?: number; intervalMs?: number } = {}): Promise<void> {
  const { timeoutMs = 60_000, stillPolls: STILL_POLLS = 4, intervalMs = 150 } = options;
  type Seen = { readonly rx: number; readonly queued: number; readonly read: number; readonly open: boolean };
  const history: (readonly Seen[])[] = [];
  // Each client must be seen stalled once, or closed by the server: a server slow to get round to
  // every client cuts the ones it kept waiting for idleness (and then reads and drops their input).
  const seenStalled = clients.map(() => false);
  // Closed by the server while bytes it had not read lay queued for it: it stopped reading, then
  // cut the client (idle); a server that reads everything has nothing queued when it closes.
  const cutUnread = clients.map(() => false);
  const outcome = await waitFor(
    () => {
      const sockets = socketTable();
      const now = clients.map((client): Seen => {
        const { localPort, remotePort } = client.socket;
        const server = sockets.get(`${remotePort}-${localPort}`);
        const own = sockets.get(`${localPort}-${remotePort}`);
        const queued = (server?.rx ?? 0) + (own?.tx ?? 0) + client.socket.writableLength;
        // bytesWritten counts every byte given to write(), queued ones included; `open`: the server has not closed its side.
        return { rx: server?.rx ?? 0, queued, read: client.socket.bytesWritten - queued, open: server?.open === true };
      });
      const previous = history.at(-1);
      history.push(now);
      now.forEach((seen, index) => {
        const before = previous?.[index];
        if (!seen.open && before?.open && before.read > 0 && before.rx > 0) cutUnread[index] = true;
      });
      const recent = history.slice(-STILL_POLLS);
      if (recent.length < STILL_POLLS) return undefined;
      const steady = (index: number, pick: (seen: Seen) => number | boolean) => recent.every((poll) => pick(poll[index]!) === pick(now[index]!));
      now.forEach((seen, index) => {
        // Stalled: the server read some of it (it is not merely yet to get to it) and leaves the rest unread.
        if (seen.open && seen.read > 0 && seen.rx > 0 && steady(index, (s) => s.rx) && steady(index, (s) => s.read)) seenStalled[index] = true;
      });
      // Read to the end on an open connection without ever having stalled: the server took everything it was sent.
      const drained = now.filter((seen, index) => !seenStalled[index] && seen.open && seen.queued === 0 && steady(index, (s) => s.queued)).length;
      if (drained > 0) return { drained, allClosed: false };
      // A client the server closed before getting round to it (idle past its timeout while the
      // server served others) proves nothing either way; at least one must have stalled.
      const settled = now.every((seen, index) => seenStalled[index] || !seen.open);
      if (!settled) return undefined;
      return { drained: 0, allClosed: !seenStalled.some(Boolean) && !cutUnread.some(Boolean) };
    },
    { what, intervalMs, timeoutMs },
  ).catch((error: unknown) => {
    const last = history.slice(-2).map((poll) => poll.map((seen) => `${seen.open ? '' : 'closed:'}${seen.rx}/${seen.read}`).join(' '));
    throw new Error(`${error instanceof Error ? error.message : String(error)}; ${seenStalled.filter(Boolean).length} seen stalled; last polls (server unread / read by the server): ${last.join(' | ')}`);
  });
  if (outcome.allClosed) {
    throw new Error(`${what}: the server closed all ${clients.length} before any was seen stalled or cut with bytes it had not read`);
  }
  if (outcome.drained > 0) {
    throw new Error(`${what}: the server read everything ${outcome.drained} of ${clients.length} clients sent without ever stopping, although they read none of its replies`);
  }
}
