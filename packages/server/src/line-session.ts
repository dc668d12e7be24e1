// The contract between the line server (the socket) and a session (the protocol): a session
// never sees a socket, and the server knows nothing of what the lines mean.

/**
 * What a connection does after each reply:
 * - `single`: the course's conversion exchange: one request, its reply, then close;
 * - `grace`: the course's discovery exchange: answer every request received, then close when
 *   no further complete request arrives within the close grace;
 * - `persistent`: kept until the client closes or stays silent past the idle timeout;
 * - `watching`: persistent and exempt from the idle timeout (it is fed pushed lines).
 */
export type ConnectionMode = 'single' | 'grace' | 'persistent' | 'watching';

/** Who is on the other end: the socket's remote address, IPv4-mapped IPv6 written as IPv4. */
export type Peer = { readonly address: string };

/** What a session may do to its own connection besides answering. */
export interface Connection {
  readonly peer: Peer;
  /**
   * Writes unsolicited lines (a watch's changes) between replies, never inside one. Returns
   * false when the connection is gone, or was cut because the client does not read them.
   */
  push(text: string): boolean;
}

/**
 * One connection's conversation, without the socket: the protocol. The server reads `mode`
 * after every reply, so a request (`PERSIST`, `SESSION`, `WATCH`) can change it.
 */
export interface LineSession {
  /** Written when the connection opens; '' for none. */
  readonly greeting: string;
  readonly mode: ConnectionMode;
  /**
   * One request line (without terminator) in, the reply's bytes out. A promise holds this
   * connection's later input until it settles (replies stay in order; other connections are
   * not held). A throw or a rejection becomes an INTERNAL failure line.
   */
  handle(line: string): string | Promise<string>;
  /** The connection has closed, either side. */
  closed?(): void;
}
