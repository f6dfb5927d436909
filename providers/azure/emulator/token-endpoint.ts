/**
 * A managed-identity token endpoint on loopback, so `DefaultAzureCredential` works offline with no
 * code change: its ManagedIdentityCredential (MSAL's managed identity sources) uses App Service's
 * protocol when `IDENTITY_ENDPOINT` and `IDENTITY_HEADER` are set —
 * `GET <IDENTITY_ENDPOINT>?api-version=2019-08-01&resource=<resource>` with the header
 * `X-IDENTITY-HEADER: <IDENTITY_HEADER>`, answered with `{access_token, expires_on, resource,
 * token_type}`. App Service's own endpoint is plain http on localhost too.
 *
 * The tokens are JWTs for the asked resource (`aud`), issued by `https://sts.windows.net/<tenant>/`,
 * valid for an hour, signed HS256 with a key only this emulator knows: the emulated Resource Manager
 * checks the signature and the audience; azurite (`--oauth basic`) checks issuer, audience and lifetime.
 */
import { createHmac, randomBytes, randomUUID, timingSafeEqual } from 'node:crypto';
import * as http from 'node:http';
import { closeServer, listenOnLoopback, LOOPBACK } from '../../emulation/http';

/** The emulated tenant. */
export const EMULATOR_TENANT_ID = '00000000-0000-0000-0000-0000000e0001';
/** The emulated identity's object and client ids. */
export const EMULATOR_PRINCIPAL_ID = '00000000-0000-0000-0000-0000000e0002';
const TOKEN_PATH = '/msi/token';

export interface TokenEndpoint {
  /** `http://127.0.0.1:<port>/msi/token`: the value of IDENTITY_ENDPOINT. */
  readonly endpoint: string;
  /** The value of IDENTITY_HEADER (the secret a caller must send). */
  readonly header: string;
  /** True for a token this endpoint issued for `audience`, still valid. */
  verify(token: string, audiences: readonly string[]): boolean;
  close(): Promise<void>;
}

const base64url = (value: object | Buffer): string => (Buffer.isBuffer(value) ? value : Buffer.from(JSON.stringify(value))).toString('base64url');

export async function startTokenEndpoint(options: { readonly port?: number; readonly log?: (line: string) => void } = {}): Promise<TokenEndpoint> {
  const key = randomBytes(32);
  const header = randomBytes(16).toString('hex');
  const sign = (content: string): Buffer => createHmac('sha256', key).update(content).digest();

  const issue = (resource: string): { token: string; expiresOn: number } => {
    const now = Math.floor(Date.now() / 1000);
    const expiresOn = now + 3600;
    const claims = {
      aud: resource,
      iss: `https://sts.windows.net/${EMULATOR_TENANT_ID}/`,
      iat: now,
      nbf: now - 300,
      exp: expiresOn,
      oid: EMULATOR_PRINCIPAL_ID,
      sub: EMULATOR_PRINCIPAL_ID,
      appid: EMULATOR_PRINCIPAL_ID,
      tid: EMULATOR_TENANT_ID,
      idtyp: 'app',
      uti: randomUUID(),
      ver: '1.0',
    };
    const content = `${base64url({ alg: 'HS256', typ: 'JWT' })}.${base64url(claims)}`;
    return { token: `${content}.${base64url(sign(content))}`, expiresOn };
  };

  const server = http.createServer((request, response) => {
    const reply = (status: number, body: object): void => {
      response.writeHead(status, { 'content-type': 'application/json' });
      response.end(JSON.stringify(body));
    };
    const url = new URL(request.url ?? '/', 'http://localhost');
    if (request.method !== 'GET' || url.pathname !== TOKEN_PATH) return reply(404, { error: 'not_found', error_description: `GET ${TOKEN_PATH}` });
    const given = Buffer.from(String(request.headers['x-identity-header'] ?? ''));
    if (given.length !== header.length || !timingSafeEqual(given, Buffer.from(header))) {
      return reply(401, { error: 'unauthorized', error_description: 'X-IDENTITY-HEADER is missing or wrong (it must be IDENTITY_HEADER)' });
    }
    const resource = url.searchParams.get('resource');
    if (!resource) return reply(400, { error: 'invalid_request', error_description: 'resource is required' });
    const { token, expiresOn } = issue(resource);
    options.log?.(`token for ${resource}`);
    return reply(200, { access_token: token, expires_on: String(expiresOn), resource, token_type: 'Bearer', client_id: EMULATOR_PRINCIPAL_ID });
  });
  const port = await listenOnLoopback(server, options.port ?? 0, 'the managed-identity token endpoint');
  return {
    endpoint: `http://${LOOPBACK}:${port}${TOKEN_PATH}`,
    header,
    verify(token, audiences) {
      const [head, body, signature] = token.split('.');
      if (!head || !body || signature === undefined) return false;
      const expected = sign(`${head}.${body}`);
      const actual = Buffer.from(signature, 'base64url');
      if (actual.length !== expected.length || !timingSafeEqual(actual, expected)) return false;
      try {
        const claims = JSON.parse(Buffer.from(body, 'base64url').toString('utf8')) as { aud?: string; exp?: number };
        return audiences.includes(String(claims.aud)) && Number(claims.exp) * 1000 > Date.now();
      } catch {
        return false;
      }
    },
    close: () => closeServer(server),
  };
}
