// The Node runtime's floor: a line server that answers every request line with a constant reply
// of the same shape as discovery's (one line for LOOKUP, a three-hop path for LOOKUP_MULTI), so
// the ratio measures what discovery adds, not how many bytes or lines a reply has. SESSION is
// granted as discovery grants it, so load generators keep their connections on both.
import { createServer } from 'node:net';

const ONE_LINE = 'c1u0 c1u1 127.0.0.1 10100\n';
const THREE_HOPS = 'c1u0 c1u1 127.0.0.1 10100 0\nc1u1 c1u2 127.0.0.1 10110 0\nc1u2 c1u3 127.0.0.1 10120 1\n';

const server = createServer({ noDelay: true }, (socket) => {
  socket.on('error', () => undefined);
  let pending = '';
  socket.setEncoding('latin1');
  socket.on('data', (chunk: string) => {
    pending += chunk;
    let out = '';
    let newline: number;
    while ((newline = pending.indexOf('\n')) >= 0) {
      out += pending.startsWith('LOOKUP_MULTI') ? THREE_HOPS : pending.startsWith('SESSION') ? 'OK session\n' : ONE_LINE;
      pending = pending.slice(newline + 1);
    }
    if (out !== '') socket.write(out);
  });
});
server.listen(0, '127.0.0.1', () => {
  const address = server.address();
  if (address && typeof address === 'object') process.stdout.write(`bare listening on 127.0.0.1:${address.port}\n`);
});
process.on('SIGTERM', () => process.exit(0));
