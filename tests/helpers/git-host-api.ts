/**
 * A stateful stand-in for the pull-request part of two git hosts' REST APIs on a loopback port,
 * held to their documented shapes, recording every request:
 *
 * - GitHub REST (2022-11-28): `GET /repos/{owner}/{repo}/pulls?state&head=owner:branch&base` → array;
 *   `POST /repos/{owner}/{repo}/pulls` {title, head, base, body} → 201 pull request;
 *   `PATCH /repos/{owner}/{repo}/pulls/{number}` {title, body} → 200. Requires `Authorization: Bearer`,
 *   a `User-Agent`, and answers 422 "A pull request already exists" for a second open one of a head.
 * - Azure DevOps Git (api-version 7.1): `GET {org}/{project}/_apis/git/repositories/{repo}/pullrequests?searchCriteria.*`
 *   → {value, count}; `POST …/pullrequests` {sourceRefName, targetRefName, title, description} → 201;
 *   `PATCH …/pullrequests/{id}` → 200. Requires `api-version` and an Authorization header;
 *   answers 409 TF401179 for a second active one of the same source and target.
 */
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface RecordedRequest {
  readonly method: string;
  readonly path: string;
  readonly query: Readonly<Record<string, string>>;
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
  readonly body: unknown;
}

export interface StoredPullRequest {
  readonly number: number;
  readonly head: string;
  readonly base: string;
  title: string;
  body: string;
  state: 'open' | 'closed';
}

export interface GitHostApi {
  readonly url: string;
  readonly requests: RecordedRequest[];
  readonly pullRequests: StoredPullRequest[];
  close(): Promise<void>;
}

async function readBody(request: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  const text = Buffer.concat(chunks).toString('utf8');
  return text.length > 0 ? (JSON.parse(text) as unknown) : undefined;
}

export async function startGitHostApi(): Promise<GitHostApi> {
  const requests: RecordedRequest[] = [];
  const pullRequests: StoredPullRequest[] = [];
  let next = 1;
  const server: Server = createServer((request, response) => {
    void (async () => {
      const url = new URL(request.url ?? '/', 'http://127.0.0.1');
      const body = await readBody(request);
      const query = Object.fromEntries(url.searchParams);
      requests.push({ method: request.method ?? '', path: url.pathname, query, headers: request.headers, body });
      const send = (status: number, document: unknown): void => {
        response.writeHead(status, { 'content-type': 'application/json; charset=utf-8' });
        response.end(JSON.stringify(document));
      };
      const fields = (body ?? {}) as Record<string, unknown>;

      const github = /^\/repos\/([^/]+)\/([^/]+)\/pulls(?:\/(\d+))?$/.exec(url.pathname);
      if (github) {
        if (!/^Bearer \S+$/.test(request.headers.authorization ?? '')) return send(401, { message: 'Requires authentication' });
        if (!request.headers['user-agent']) return send(403, { message: 'Request forbidden by administrative rules. Please make sure your request has a User-Agent header' });
        const [, owner, repo, number] = github;
        const document = (pull: StoredPullRequest) => ({
          number: pull.number,
          state: pull.state,
          title: pull.title,
          body: pull.body,
          html_url: `https://github.com/${owner}/${repo}/pull/${pull.number}`,
          head: { ref: pull.head, label: `${owner}:${pull.head}` },
          base: { ref: pull.base },
        });
        if (request.method === 'GET' && !number) {
          const head = query.head?.split(':')[1];
          return send(200, pullRequests.filter((pull) => pull.state === (query.state ?? 'open') && (!head || pull.head === head) && (!query.base || pull.base === query.base)).map(document));
        }
        if (request.method === 'POST' && !number) {
          if (typeof fields.head !== 'string' || typeof fields.base !== 'string' || typeof fields.title !== 'string') {
            return send(422, { message: 'Validation Failed', errors: [{ resource: 'PullRequest', code: 'missing_field' }] });
          }
          if (pullRequests.some((pull) => pull.state === 'open' && pull.head === fields.head && pull.base === fields.base)) {
            return send(422, { message: 'Validation Failed', errors: [{ resource: 'PullRequest', code: 'custom', message: `A pull request already exists for ${owner}:${String(fields.head)}.` }] });
          }
          const pull: StoredPullRequest = { number: next++, head: fields.head, base: fields.base, title: fields.title, body: String(fields.body ?? ''), state: 'open' };
          pullRequests.push(pull);
          return send(201, document(pull));
        }
        if (request.method === 'PATCH' && number) {
          const pull = pullRequests.find((candidate) => candidate.number === Number(number));
          if (!pull) return send(404, { message: 'Not Found' });
          if (typeof fields.title === 'string') pull.title = fields.title;
          if (typeof fields.body === 'string') pull.body = fields.body;
          return send(200, document(pull));
        }
        return send(404, { message: 'Not Found' });
      }

      const azure = /^\/([^/]+)\/([^/]+)\/_apis\/git\/repositories\/([^/]+)\/pullrequests(?:\/(\d+))?$/.exec(url.pathname);
      if (azure) {
        if (!query['api-version']) return send(400, { message: 'No api-version was supplied for the request.', typeKey: 'VssVersionOutOfRangeException' });
        if (!request.headers.authorization) return send(401, { message: 'TF400813: The user is not authorized to access this resource.' });
        const [, , , , id] = azure;
        const document = (pull: StoredPullRequest) => ({
          pullRequestId: pull.number,
          status: pull.state === 'open' ? 'active' : 'completed',
          title: pull.title,
          description: pull.body,
          sourceRefName: `refs/heads/${pull.head}`,
          targetRefName: `refs/heads/${pull.base}`,
          url: `${url.origin}${url.pathname.replace(/\/\d+$/, '')}/${pull.number}`,
        });
        if (request.method === 'GET' && !id) {
          const source = query['searchCriteria.sourceRefName']?.replace(/^refs\/heads\//, '');
          const target = query['searchCriteria.targetRefName']?.replace(/^refs\/heads\//, '');
          const status = query['searchCriteria.status'] ?? 'active';
          const found = pullRequests.filter((pull) => (status !== 'active' || pull.state === 'open') && (!source || pull.head === source) && (!target || pull.base === target));
          return send(200, { value: found.map(document), count: found.length });
        }
        if (request.method === 'POST' && !id) {
          const source = typeof fields.sourceRefName === 'string' ? fields.sourceRefName.replace(/^refs\/heads\//, '') : undefined;
          const target = typeof fields.targetRefName === 'string' ? fields.targetRefName.replace(/^refs\/heads\//, '') : undefined;
          if (!source || !target || typeof fields.title !== 'string' || !String(fields.sourceRefName).startsWith('refs/heads/')) {
            return send(400, { message: 'TF401398: The pull request cannot be created: sourceRefName, targetRefName (refs/heads/…) and title are required.' });
          }
          if (typeof fields.description === 'string' && fields.description.length > 4000) return send(400, { message: 'TF401407: description is longer than 4000 characters.' });
          if (pullRequests.some((pull) => pull.state === 'open' && pull.head === source && pull.base === target)) {
            return send(409, { message: 'TF401179: An active pull request for the source and target branch already exists.' });
          }
          const pull: StoredPullRequest = { number: next++, head: source, base: target, title: fields.title, body: String(fields.description ?? ''), state: 'open' };
          pullRequests.push(pull);
          return send(201, document(pull));
        }
        if (request.method === 'PATCH' && id) {
          const pull = pullRequests.find((candidate) => candidate.number === Number(id));
          if (!pull) return send(404, { message: 'TF401180: The requested pull request was not found.' });
          if (typeof fields.description === 'string' && fields.description.length > 4000) return send(400, { message: 'TF401407: description is longer than 4000 characters.' });
          if (typeof fields.title === 'string') pull.title = fields.title;
          if (typeof fields.description === 'string') pull.body = fields.description;
          return send(200, document(pull));
        }
      }
      return send(404, { message: 'Not Found' });
    })().catch((error: unknown) => {
      response.writeHead(500);
      response.end(String(error));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    pullRequests,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
