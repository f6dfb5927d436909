/**
 * The ceiling `npm run bench:serve` measures the prediction API against: a bare node:http server that
 * reads each request's body and answers a fixed JSON document the size of a prediction, nothing else
 * (no routing, no key, no parsing, no model). What this server does per request, ours does too; the
 * ratio of the two req/s says how much of Node's HTTP stack the API leaves for its own work.
 *
 * Run as its own process (`node lib/bench/bare-http-server.js [port]`); prints `{"url": …}` once
 * listening, stops on SIGTERM.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

/** A prediction's answer, as long as ours (≈ 220 bytes). */
const ANSWER = JSON.stringify({
  label: 'MM',
  probabilities: { LA: 0.10409728437662125, MM: 0.8844940662384033, UM: 0.011408735997974873 },
  modelVersion: 'v-000000000000',
  featureSpecVersion: '1.1.0',
  requestId: '00000000-0000-4000-8000-000000000000',
});

function startBareServer(port: number): void {
  const length = String(Buffer.byteLength(ANSWER));
  const server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      Buffer.concat(chunks);
      response.writeHead(200, ['content-type', 'application/json', 'content-length', length]);
      response.end(ANSWER);
    });
  });
  server.listen({ port, host: '127.0.0.1', backlog: 4096 }, () => {
    process.stdout.write(`${JSON.stringify({ url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` })}\n`);
  });
  process.once('SIGTERM', () => {
    server.close();
    server.closeAllConnections();
  });
}

if (require.main === module) startBareServer(Number(process.argv[2] ?? 0));
