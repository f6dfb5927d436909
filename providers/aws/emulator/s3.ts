/**
 * S3 on loopback: s3rver (a devDependency, loaded when the emulator starts) behind a small
 * recording proxy.
 *
 * The proxy (1) records every request (method, path, headers) so tests can assert what the
 * production code sent (SSE-KMS headers, conditional-write headers), (2) adds what s3rver lacks:
 * S3's conditional writes. A PUT with `If-None-Match: *` or `If-Match: <etag>` is checked against
 * the object (per key, serialised) and answered `412 PreconditionFailed` as S3 does when the
 * condition fails, and (3) injects faults (`failNext`, `POST /_emulator/fail-next`). Requests are
 * forwarded byte for byte, so signatures stay valid.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import * as http from 'node:http';
import * as os from 'node:os';
import * as path from 'node:path';
import { FaultQueue, type Fault } from '../../emulation/faults';
import { closeServer, listenOnLoopback, LOOPBACK, readRequestBody } from '../../emulation/http';

export interface RecordedS3Request {
  readonly method: string;
  /** Path and query, e.g. `/bucket/key?uploads`. */
  readonly url: string;
  readonly headers: Readonly<Record<string, string>>;
  /** The status the client got. */
  status?: number;
}

/** s3rver's fixed credentials (it checks signatures made with them; not a secret). */
export const S3RVER_CREDENTIALS = { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' } as const;

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
  /** The next `count` requests (of `fault.operation`, an HTTP method such as `PUT`, when given) fail with `fault`. */
  failNext(count: number, fault: Fault): void;
  close(): Promise<void>;
}

export interface S3EmulatorOptions {
  /**
   * Where s3rver keeps the objects (kept on close).
   * @default - a temporary directory, removed on close
   */
  readonly directory?: string;
  /** @default 0 (any free port) */
  readonly port?: number;
}

const PRECONDITION_FAILED = '<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>PreconditionFailed</Code>' +
  '<Message>At least one of the pre-conditions you specified did not hold</Message></Error>';

function headersOf(request: http.IncomingMessage): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(request.headers)) if (value !== undefined) headers[name] = Array.isArray(value) ? value.join(', ') : value;
  return headers;
}

function escapeXml(text: string): string {
  return text.replace(/[<>&'"]/g, (character) => `&#${character.charCodeAt(0)};`);
}

/** Starts s3rver with `buckets` (created when missing) and the proxy in front of it. */
export async function startS3Emulator(buckets: readonly string[], options: S3EmulatorOptions = {}): Promise<S3Emulator> {
  const { default: S3rver } = await import('s3rver');
  const directory = options.directory ?? mkdtempSync(path.join(os.tmpdir(), 's3rver-'));
  const server = new S3rver({ address: LOOPBACK, port: 0, silent: true, directory, configureBuckets: buckets.map((name) => ({ name })) });
  const { port: upstreamPort } = await server.run();
  const requests: RecordedS3Request[] = [];
  const keyLocks = new Map<string, Promise<void>>();
  const faults = new FaultQueue();

  type Answer = { status: number; headers: http.IncomingHttpHeaders; body: Buffer };
  const forward = (method: string, url: string, headers: http.OutgoingHttpHeaders, body?: Buffer): Promise<Answer> =>
    new Promise((resolve, reject) => {
      const upstream = http.request({ host: LOOPBACK, port: upstreamPort, method, path: url, headers }, (response) => {
        readRequestBody(response).then((content) => resolve({ status: response.statusCode ?? 500, headers: response.headers, body: content }), reject);
      });
      upstream.on('error', reject);
      upstream.end(body);
    });

  const proxy = http.createServer((request, response) => {
    const recorded: RecordedS3Request = { method: request.method ?? 'GET', url: request.url ?? '/', headers: headersOf(request) };
    const reply = (status: number, headers: http.IncomingHttpHeaders, body: Buffer | string): void => {
      recorded.status = status;
      const { 'transfer-encoding': _, connection: __, ...rest } = headers;
      // a HEAD answer keeps the object's content-length
      response.writeHead(status, recorded.method === 'HEAD' ? rest : { ...rest, 'content-length': Buffer.byteLength(body) });
      response.end(recorded.method === 'HEAD' ? undefined : body);
    };
    void (async () => {
      if (await faults.handleAdminRequest(request, response)) return;
      requests.push(recorded);
      const body = await readRequestBody(request);
      const fault = faults.take(recorded.method);
      if (fault) {
        const message = fault.message ?? `${fault.code} (injected by the emulator)`;
        reply(fault.status, { 'content-type': 'application/xml', ...(fault.retryAfterSeconds !== undefined ? { 'retry-after': String(fault.retryAfterSeconds) } : {}) },
          `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${escapeXml(fault.code)}</Code><Message>${escapeXml(message)}</Message></Error>`);
        return;
      }
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
  const port = await listenOnLoopback(proxy, options.port ?? 0, 'the S3 emulator');
  const endpoint = `http://${LOOPBACK}:${port}`;
  return {
    endpoint,
    requests,
    connection: {
      region: 'us-east-1',
      endpoint,
      forcePathStyle: true,
      requestChecksumCalculation: 'WHEN_REQUIRED',
      credentials: { ...S3RVER_CREDENTIALS },
    },
    failNext: (count, fault) => faults.failNext(count, fault),
    async close() {
      await closeServer(proxy);
      server.httpServer?.closeAllConnections();
      await server.close();
      if (options.directory === undefined) rmSync(directory, { recursive: true, force: true });
    },
  };
}
