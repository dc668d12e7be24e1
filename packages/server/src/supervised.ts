/**
 * Ties a server's life to the supervisor that started it, when there is one.
 *
 * `conv up` starts every server in its own process group, out of reach of the terminal's Ctrl-C
 * (so it can stop them in order: converters first, then the proxy, then discovery), and gives
 * each one an IPC channel. The kernel closes that channel when the supervisor ends in any way,
 * SIGKILL included; the server then stops exactly as on SIGTERM (its own handler: deregister,
 * drain, exit), so nothing is left holding the ports. Without a channel (a terminal, a test, a
 * pnpm script) this does nothing.
 *
 * Call it first in `main`, before anything awaits: a supervisor that is gone already is noticed
 * at once, and before the server's signal handlers exist SIGTERM simply ends the process.
 */
export function stopWhenSupervisorLeaves(): void {
  const channel = process.channel;
  if (!channel) return;
  const leave = (): void => void process.kill(process.pid, 'SIGTERM');
  process.once('disconnect', leave);
  // Listening for 'disconnect' refs the channel; unref it so a server that has closed everything
  // still ends on its own (the proxy's main returns once its sockets are closed).
  channel.unref();
  if (!process.connected) leave();
}
