// Many course-style conversion servers in one process, one listening port each, so that
// discovery's health checks have real endpoints to probe. The unit pairs come on stdin, as JSON.
import { type Server, createServer } from 'node:net';

let input = '';
for await (const chunk of process.stdin) input += String(chunk);
const pairs = JSON.parse(input) as [string, string][];
const servers: Server[] = [];
const ports: number[] = [];
for (const [a, b] of pairs) {
  const server = createServer((socket) => {
    socket.on('error', () => undefined);
    socket.write(`HELLO converter ${a} ${b} - send "<from> <to> <amount>"\n`);
    socket.once('data', () => socket.end('1\n'));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  ports.push(address && typeof address === 'object' ? address.port : 0);
  servers.push(server);
}
process.stdout.write(`${JSON.stringify(ports)}\n`);
process.on('SIGTERM', () => process.exit(0));
