// The Node runtime's floor: a line server that answers every request line with a constant line.
import { createServer } from 'node:net';

const REPLY = 'x y 127.0.0.1 4000 1\n';
const server = createServer({ noDelay: true }, (socket) => {
  socket.on('error', () => undefined);
  socket.on('data', (chunk: Buffer) => {
    let lines = 0;
    for (let i = chunk.indexOf(10); i >= 0; i = chunk.indexOf(10, i + 1)) lines++;
    if (lines > 0) socket.write(lines === 1 ? REPLY : REPLY.repeat(lines));
  });
});
server.listen(0, '127.0.0.1', () => {
  const address = server.address();
  if (address && typeof address === 'object') process.stdout.write(`bare listening on 127.0.0.1:${address.port}\n`);
});
process.on('SIGTERM', () => process.exit(0));
