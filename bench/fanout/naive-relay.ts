/**
 * The baseline: a chat relay as most people first write it in Node, and as
 * the original Python server works. Every line received is written to every
 * other connection with its own `write()`: no batching, no send queue bound,
 * no protocol. It exists to be measured against (REFERENCES §3).
 *
 *   node --import tsx bench/fanout/naive-relay.ts [--port 0]
 */
import { createServer, type Socket } from 'node:net';
import { parseArgs } from 'node:util';

const { values } = parseArgs({ options: { port: { type: 'string', default: '0' }, host: { type: 'string', default: '127.0.0.1' } } });
const clients = new Set<Socket>();

const server = createServer((socket) => {
  socket.setNoDelay(true);
  clients.add(socket);
  let partial = '';
  socket.setEncoding('utf8');
  socket.on('data', (text: string) => {
    const lines = (partial + text).split('\n');
    partial = lines.pop()!;
    for (const line of lines) {
      for (const other of clients) if (other !== socket) other.write(`${line}\n`);
    }
  });
  socket.on('error', () => {});
  socket.on('close', () => clients.delete(socket));
});

server.listen(Number(values.port), values.host, () => {
  const address = server.address();
  if (address !== null && typeof address === 'object') console.log(`Server started on ${address.address}:${address.port}`);
});
process.on('SIGTERM', () => process.exit(0));
