/**
 * Pull requests on the git host the repository's remote names: GitHub (github.com or GitHub
 * Enterprise Server) or Azure Repos (dev.azure.com, *.visualstudio.com), through their REST APIs.
 * `openOrUpdatePullRequest` finds the open pull request from a branch into a base and updates its
 * title and description, or opens one: a promotion branch has at most one open pull request.
 *
 * Tokens come from the environment, never from options or files:
 * - GitHub: `GITHUB_TOKEN` (or `GH_TOKEN`); API at `GITHUB_API_URL` (set by GitHub Actions) else
 *   https://api.github.com, or https://<host>/api/v3 for GitHub Enterprise Server;
 * - Azure Repos: `SYSTEM_ACCESSTOKEN` (the pipeline's job token, sent as a bearer token) or
 *   `AZURE_DEVOPS_EXT_PAT` (a personal access token, sent as basic auth); organization URL at
 *   `SYSTEM_COLLECTIONURI` (set by Azure Pipelines) else https://dev.azure.com/<organization>/.
 */
import { RetailMlopsError } from '../../core/errors';

/** The git host could not be used (unknown remote, no token, the REST API refused). */
export class PullRequestError extends RetailMlopsError {
  constructor(message: string, options?: { readonly cause?: unknown }) {
    super('PULL_REQUEST_FAILED', message, options);
  }
}

export type GitHostKind = 'github' | 'azure-repos';

/** Where a repository lives, read from its remote URL. */
export type GitHostRepository =
  | { readonly kind: 'github'; readonly host: string; readonly owner: string; readonly repository: string }
  | { readonly kind: 'azure-repos'; readonly organization: string; readonly project: string; readonly repository: string };

/**
 * Reads the host and repository from a remote URL (https or ssh). GitHub Enterprise Server is
 * recognised by a host name containing `github`; pass `assumeGitHub` for another name.
 * @throws PullRequestError for a URL that names neither host
 */
export function parseGitRemote(remoteUrl: string, assumeGitHub = false): GitHostRepository {
  const url = remoteUrl.trim();
  const decode = (segment: string): string => decodeURIComponent(segment);
  // Azure Repos over https: dev.azure.com/{org}/{project}/_git/{repo}, {org}.visualstudio.com[/DefaultCollection]/{project}/_git/{repo}
  let match = /^https?:\/\/(?:[^@/]+@)?dev\.azure\.com\/([^/]+)\/([^/]+)\/_git\/([^/?#]+?)\/?$/i.exec(url);
  if (match) return { kind: 'azure-repos', organization: decode(match[1]), project: decode(match[2]), repository: decode(match[3]) };
  match = /^https?:\/\/(?:[^@/]+@)?([^./]+)\.visualstudio\.com\/(?:DefaultCollection\/)?([^/]+)\/_git\/([^/?#]+?)\/?$/i.exec(url);
  if (match) return { kind: 'azure-repos', organization: decode(match[1]), project: decode(match[2]), repository: decode(match[3]) };
  // Azure Repos over ssh: git@ssh.dev.azure.com:v3/{org}/{project}/{repo}, {org}@vs-ssh.visualstudio.com:v3/…
  match = /^(?:ssh:\/\/)?[^@]+@(?:ssh\.dev\.azure\.com|vs-ssh\.visualstudio\.com)[:/]v3\/([^/]+)\/([^/]+)\/([^/]+?)\/?$/i.exec(url);
  if (match) return { kind: 'azure-repos', organization: decode(match[1]), project: decode(match[2]), repository: decode(match[3]) };
  // GitHub: https://host/owner/repo(.git), git@host:owner/repo.git, ssh://git@host[:port]/owner/repo.git
  match =
    /^https?:\/\/(?:[^@/]+@)?([^/:]+)(?::\d+)?\/([^/]+)\/([^/]+?)(?:\.git)?\/?$/i.exec(url) ??
    /^(?:ssh:\/\/)?[^@/]+@([^:/]+)(?::\d+)?[:/]([^/]+)\/([^/]+?)(?:\.git)?\/?$/i.exec(url);
  if (match && (assumeGitHub || /github/i.test(match[1]))) {
    return { kind: 'github', host: match[1].toLowerCase(), owner: decode(match[2]), repository: decode(match[3]) };
  }
  throw new PullRequestError(`the remote ${JSON.stringify(url)} is neither a GitHub nor an Azure Repos repository: open the pull request by hand, or pass --no-push`);
}

/** The pull request to open or update. */
export interface PullRequestContent {
  /** The branch with the change (pushed already). */
  readonly branch: string;
  /** The branch it merges into, e.g. `main`. */
  readonly base: string;
  readonly title: string;
  /** Markdown. */
  readonly description: string;
}

export interface PullRequestResult {
  readonly host: GitHostKind;
  readonly number: number;
  readonly url: string;
  /** True when an open pull request of the branch existed and was updated. */
  readonly updated: boolean;
}

export interface PullRequestOptions {
  /** @default process.env */
  readonly environment?: NodeJS.ProcessEnv;
  /** @default globalThis.fetch */
  readonly fetch?: typeof fetch;
}

/** Azure Repos caps a description at 4,000 characters. */
const AZURE_DESCRIPTION_LIMIT = 4000;

/** The header value that authenticates git itself over https (for `git push`), or undefined without a token. */
export function gitAuthorizationHeader(repository: GitHostRepository, environment: NodeJS.ProcessEnv = process.env): string | undefined {
  if (repository.kind === 'github') {
    const token = environment.GITHUB_TOKEN || environment.GH_TOKEN;
    return token ? `Authorization: Basic ${Buffer.from(`x-access-token:${token}`).toString('base64')}` : undefined;
  }
  if (environment.SYSTEM_ACCESSTOKEN) return `Authorization: Bearer ${environment.SYSTEM_ACCESSTOKEN}`;
  if (environment.AZURE_DEVOPS_EXT_PAT) return `Authorization: Basic ${Buffer.from(`:${environment.AZURE_DEVOPS_EXT_PAT}`).toString('base64')}`;
  return undefined;
}

/** Finds the open pull request of `content.branch` into `content.base` and updates it, or opens one. */
export async function openOrUpdatePullRequest(repository: GitHostRepository, content: PullRequestContent, options: PullRequestOptions = {}): Promise<PullRequestResult> {
  const environment = options.environment ?? process.env;
  const request = requester(options.fetch ?? fetch);
  return repository.kind === 'github'
    ? gitHubPullRequest(repository, content, environment, request)
    : azureReposPullRequest(repository, content, environment, request);
}

type Requester = (method: string, url: string, headers: Readonly<Record<string, string>>, body?: unknown) => Promise<unknown>;

function requester(fetchImplementation: typeof fetch): Requester {
  return async (method, url, headers, body) => {
    let response: Response;
    try {
      response = await fetchImplementation(url, {
        method,
        headers: { ...headers, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
    } catch (error) {
      throw new PullRequestError(`${method} ${url} failed: ${(error as Error).message}`, { cause: error });
    }
    const text = await response.text();
    if (!response.ok) throw new PullRequestError(`${method} ${url} answered ${response.status}: ${text.slice(0, 500)}`);
    try {
      return text.length === 0 ? undefined : (JSON.parse(text) as unknown);
    } catch (error) {
      throw new PullRequestError(`${method} ${url} answered ${response.status} with a body that is not JSON`, { cause: error });
    }
  };
}

const withoutTrailingSlash = (url: string): string => url.replace(/\/+$/, '');

async function gitHubPullRequest(
  repository: Extract<GitHostRepository, { kind: 'github' }>,
  content: PullRequestContent,
  environment: NodeJS.ProcessEnv,
  request: Requester,
): Promise<PullRequestResult> {
  const token = environment.GITHUB_TOKEN || environment.GH_TOKEN;
  if (!token) throw new PullRequestError('GITHUB_TOKEN (or GH_TOKEN) is not set: a token that may push and open pull requests is needed (or pass --no-push)');
  const api = withoutTrailingSlash(environment.GITHUB_API_URL || (repository.host === 'github.com' ? 'https://api.github.com' : `https://${repository.host}/api/v3`));
  const headers = {
    'accept': 'application/vnd.github+json',
    'authorization': `Bearer ${token}`,
    'x-github-api-version': '2022-11-28',
    'user-agent': 'retail-mlops',
  };
  const base = `${api}/repos/${encodeURIComponent(repository.owner)}/${encodeURIComponent(repository.repository)}/pulls`;
  const query = new URLSearchParams({ state: 'open', head: `${repository.owner}:${content.branch}`, base: content.base });
  const open = (await request('GET', `${base}?${query.toString()}`, headers)) as readonly { readonly number: number; readonly html_url: string }[];
  const fields = { title: content.title, body: content.description };
  if (Array.isArray(open) && open.length > 0) {
    const updated = (await request('PATCH', `${base}/${open[0].number}`, headers, fields)) as { number: number; html_url: string };
    return { host: 'github', number: updated.number, url: updated.html_url, updated: true };
  }
  const created = (await request('POST', base, headers, { ...fields, head: content.branch, base: content.base, maintainer_can_modify: true })) as { number: number; html_url: string };
  return { host: 'github', number: created.number, url: created.html_url, updated: false };
}

async function azureReposPullRequest(
  repository: Extract<GitHostRepository, { kind: 'azure-repos' }>,
  content: PullRequestContent,
  environment: NodeJS.ProcessEnv,
  request: Requester,
): Promise<PullRequestResult> {
  const authorization = gitAuthorizationHeader(repository, environment)?.replace(/^Authorization: /, '');
  if (!authorization) {
    throw new PullRequestError('SYSTEM_ACCESSTOKEN (map $(System.AccessToken) into the step) or AZURE_DEVOPS_EXT_PAT is not set: a token that may push and open pull requests is needed (or pass --no-push)');
  }
  const organizationUrl = withoutTrailingSlash(environment.SYSTEM_COLLECTIONURI || `https://dev.azure.com/${encodeURIComponent(repository.organization)}`);
  const headers = { accept: 'application/json', authorization };
  const base = `${organizationUrl}/${encodeURIComponent(repository.project)}/_apis/git/repositories/${encodeURIComponent(repository.repository)}/pullrequests`;
  const query = new URLSearchParams({
    'searchCriteria.sourceRefName': `refs/heads/${content.branch}`,
    'searchCriteria.targetRefName': `refs/heads/${content.base}`,
    'searchCriteria.status': 'active',
    'api-version': '7.1',
  });
  const description = content.description.length > AZURE_DESCRIPTION_LIMIT ? `${content.description.slice(0, AZURE_DESCRIPTION_LIMIT - 40)}\n\n… (the commit message has the rest)` : content.description;
  const open = (await request('GET', `${base}?${query.toString()}`, headers)) as { readonly value?: readonly { readonly pullRequestId: number }[] };
  const webUrl = (id: number): string =>
    `${organizationUrl}/${encodeURIComponent(repository.project)}/_git/${encodeURIComponent(repository.repository)}/pullrequest/${id}`;
  const fields = { title: content.title, description };
  const existing = open?.value?.[0];
  if (existing) {
    const updated = (await request('PATCH', `${base}/${existing.pullRequestId}?api-version=7.1`, headers, fields)) as { pullRequestId: number };
    return { host: 'azure-repos', number: updated.pullRequestId, url: webUrl(updated.pullRequestId), updated: true };
  }
  const created = (await request('POST', `${base}?api-version=7.1`, headers, {
    ...fields,
    sourceRefName: `refs/heads/${content.branch}`,
    targetRefName: `refs/heads/${content.base}`,
  })) as { pullRequestId: number };
  return { host: 'azure-repos', number: created.pullRequestId, url: webUrl(created.pullRequestId), updated: false };
}
