/**
 * S3 on loopback for the tests: s3rver on an ephemeral port, behind a small recording proxy.
 *
 * The proxy (1) records every request (method, path, headers) so tests can assert what the
 * production code sent (SSE-KMS headers, conditional-write headers), and (2) adds what s3rver
 * lacks: S3's conditional writes. A PUT with `If-None-Match: *` or `If-Match: <etag>` is checked
 * against the object (per key, serialised) and answered `412 PreconditionFailed` as S3 does when
 * the condition fails. Requests are forwarded byte for byte, so signatures stay valid.
 */
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import S3rver from 's3rver';
import { temporaryDirectory } from '../../../helpers/paths';

export interface RecordedS3Request {
  readonly method: string;
  /** Path and query, e.g. `/bucket/key?uploads`. */
  readonly url: string;
  readonly headers: Readonly<Record<string, string>>;
  /** The status the client got. */
  status?: number;
}

export interface S3Emulator {
  /** `http://127.0.0.1:<port>` (the proxy). */
  readonly endpoint: string;
  readonly requests: RecordedS3Request[];
  /** Connection options for the aws provider's S3 clients. */
  readonly connection: {
    readonly region: 'us-east-1';
    readonly endpoint: string;
    readonly forcePathStyle: true;
    readonly requestChecksumCalculation: 'WHEN_REQUIRED';
    readonly credentials: { readonly accessKeyId: string; readonly secretAccessKey: string };
  };
  close(): Promise<void>;
}

const PRECONDITION_FAILED = '<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>PreconditionFailed</Code>' +
  '<Message>At least one of the pre-conditions you specified did not hold</Message></Error>';

function readBody(request: http.IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => resolve(Buffer.concat(chunks)));
    request.on('error', reject);
  });
}

function headersOf(request: http.IncomingMessage): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(request.headers)) if (value !== undefined) headers[name] = Array.isArray(value) ? value.join(', ') : value;
  return headers;
}

/** Starts s3rver with `buckets` and the proxy in front of it. */
export async function startS3Emulator(buckets: readonly string[]): Promise<S3Emulator> {
  const directory = temporaryDirectory('s3rver-');
  const server = new S3rver({ address: '127.0.0.1', port: 0, silent: true, directory: directory.path, configureBuckets: buckets.map((name) => ({ name })) });
  const { port: upstreamPort } = await server.run();
  const requests: RecordedS3Request[] = [];
  const keyLocks = new Map<string, Promise<void>>();

  type Answer = { status: number; headers: http.IncomingHttpHeaders; body: Buffer };
  const forward = (method: string, url: string, headers: http.OutgoingHttpHeaders, body?: Buffer): Promise<Answer> =>
    new Promise((resolve, reject) => {
      const upstream = http.request({ host: '127.0.0.1', port: upstreamPort, method, path: url, headers }, (response) => {
        readBody(response).then((content) => resolve({ status: response.statusCode ?? 500, headers: response.headers, body: content }), reject);
      });
      upstream.on('error', reject);
      upstream.end(body);
    });

  const proxy = http.createServer((request, response) => {
    const recorded: RecordedS3Request = { method: request.method ?? 'GET', url: request.url ?? '/', headers: headersOf(request) };
    requests.push(recorded);
    const reply = (status: number, headers: http.IncomingHttpHeaders, body: Buffer | string): void => {
      recorded.status = status;
      const { 'transfer-encoding': _, connection: __, ...rest } = headers;
      // a HEAD answer keeps the object's content-length
      response.writeHead(status, recorded.method === 'HEAD' ? rest : { ...rest, 'content-length': Buffer.byteLength(body) });
      response.end(body);
    };
    void (async () => {
      const body = await readBody(request);
      const conditional = request.method === 'PUT' && (request.headers['if-none-match'] !== undefined || request.headers['if-match'] !== undefined);
      if (!conditional) {
        const answer = await forward(recorded.method, recorded.url, request.headers, body);
        reply(answer.status, answer.headers, answer.body);
        return;
      }
      const objectPath = recorded.url.split('?')[0];
      const previous = keyLocks.get(objectPath) ?? Promise.resolve();
      let release!: () => void;
      const held = new Promise<void>((resolve) => (release = resolve));
      keyLocks.set(objectPath, previous.then(() => held));
      await previous;
      try {
        const current = await forward('HEAD', objectPath, { host: request.headers.host });
        const exists = current.status === 200;
        const ifNoneMatch = request.headers['if-none-match'];
        const ifMatch = request.headers['if-match'];
        if ((ifNoneMatch === '*' && exists) || (ifMatch !== undefined && (!exists || current.headers.etag !== ifMatch))) {
          reply(412, { 'content-type': 'application/xml' }, PRECONDITION_FAILED);
          return;
        }
        const answer = await forward(recorded.method, recorded.url, request.headers, body);
        reply(answer.status, answer.headers, answer.body);
      } finally {
        release();
      }
    })().catch((error: unknown) => reply(500, { 'content-type': 'text/plain' }, String(error)));
  });
  await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
  const endpoint = `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`;
  return {
    endpoint,
    requests,
    connection: {
      region: 'us-east-1',
      endpoint,
      forcePathStyle: true,
      requestChecksumCalculation: 'WHEN_REQUIRED',
      credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' },
    },
    async close() {
      proxy.closeAllConnections();
      await new Promise<void>((resolve) => proxy.close(() => resolve()));
      server.httpServer?.closeAllConnections();
      await server.close();
      directory.remove();
    },
  };
}
