/** Small HTTP helpers the emulators share: whole request bodies, listening on loopback, closing. */
import type { IncomingMessage, Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { EmulatorError } from './errors';

/** The loopback address every emulator listens on (never another interface). */
export const LOOPBACK = '127.0.0.1';

export function readRequestBody(request: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => resolve(Buffer.concat(chunks)));
    request.on('error', reject);
  });
}

/** Listens on 127.0.0.1:`port` (0: any free port) and returns the port. */
export async function listenOnLoopback(server: Pick<Server, 'listen' | 'once' | 'off' | 'address'>, port: number, what: string): Promise<number> {
  await new Promise<void>((resolve, reject) => {
    const failed = (error: Error): void => reject(new EmulatorError(`${what} cannot listen on ${LOOPBACK}:${port}: ${error.message}`, { cause: error }));
    server.once('error', failed);
    server.listen(port, LOOPBACK, () => {
      server.off('error', failed);
      resolve();
    });
  });
  return (server.address() as AddressInfo).port;
}

/** Closes a server and every connection it holds. */
export async function closeServer(server: Pick<Server, 'close' | 'closeAllConnections' | 'listening'>): Promise<void> {
  if (!server.listening) return;
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
}
