/**
 * The retrain triggers against their CI's API on loopback (each request captured as the CI would
 * receive it): Jenkins (crumb, session cookie, API token, build parameters; no crumb issuer → none),
 * Azure DevOps (Runs API with an Entra token for Azure DevOps, or a token variable), Travis CI (API v3
 * request), a webhook (HMAC-SHA256 signature); refusals and unreachable CIs as errors; secrets only from
 * variables, every missing one named at once.
 */
import { createHmac } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { createRetrainTrigger } from '../../pipelines/triggers/retrain-trigger';
import { AZURE_DEVOPS_SCOPE, RetrainTriggerError, type RetrainRequest } from '../../pipelines/triggers/trigger-http';

interface Captured {
  readonly method: string;
  readonly url: string;
  readonly headers: IncomingMessage['headers'];
  readonly body: string;
}

type Handler = (request: Captured, response: ServerResponse) => void;

const servers: { close(): void }[] = [];
afterEach(() => {
  for (const server of servers.splice(0)) server.close();
});

async function capture(handler: Handler): Promise<{ readonly url: string; readonly requests: Captured[] }> {
  const requests: Captured[] = [];
  const server = createServer((request, response) => {
    let body = '';
    request.on('data', (chunk: Buffer) => (body += chunk.toString()));
    request.on('end', () => {
      const captured = { method: request.method ?? '', url: request.url ?? '', headers: request.headers, body };
      requests.push(captured);
      handler(captured, response);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  servers.push(server);
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, requests };
}

const request: RetrainRequest = {
  environment: 'staging',
  modelVersion: 'v-0123456789ab',
  reasons: ['drift: 3 above PSI 0.25 (largest 0.612, format_ls)'],
  report: 's3://lake/reports/drift/latest.html',
  summary: { maxPsi: 0.612 },
};

describe('Jenkins', () => {
  it('gets a crumb (keeping its session cookie), then POSTs buildWithParameters with the crumb and the API token', async () => {
    const jenkins = await capture((captured, response) => {
      if (captured.url === '/crumbIssuer/api/json') {
        response.writeHead(200, { 'content-type': 'application/json', 'set-cookie': ['JSESSIONID.1=abc; Path=/', 'other=x; HttpOnly'] });
        response.end(JSON.stringify({ crumb: 'c-1', crumbRequestField: 'Jenkins-Crumb' }));
      } else {
        response.writeHead(201, { location: 'https://jenkins.example.com/queue/item/7/' });
        response.end();
      }
    });
    const trigger = createRetrainTrigger(
      { kind: 'jenkins', url: `${jenkins.url}/`, job: 'teams/retail mlops', parameters: { TARGET: 'all' } },
      { variables: { JENKINS_USER: 'bot', JENKINS_API_TOKEN: 'token-1' } },
    );
    expect(trigger.target).toBe(`${jenkins.url}/job/teams/job/retail%20mlops`);
    expect(await trigger.trigger(request)).toEqual({ status: 201, location: 'https://jenkins.example.com/queue/item/7/', id: '7' });
    const [crumb, build] = jenkins.requests;
    expect(crumb.method).toBe('GET');
    expect(build).toMatchObject({ method: 'POST', url: '/job/teams/job/retail%20mlops/buildWithParameters' });
    expect(build.headers).toMatchObject({
      'authorization': `Basic ${Buffer.from('bot:token-1').toString('base64')}`,
      'jenkins-crumb': 'c-1',
      'cookie': 'JSESSIONID.1=abc; other=x',
      'content-type': 'application/x-www-form-urlencoded',
    });
    expect(Object.fromEntries(new URLSearchParams(build.body))).toEqual({
      TARGET: 'all',
      RETRAIN_REASON: 'retail-mlops monitor (staging): retrain v-0123456789ab: drift: 3 above PSI 0.25 (largest 0.612, format_ls)',
      RETAIL_MLOPS_ENVIRONMENT: 'staging',
      MODEL_VERSION: 'v-0123456789ab',
    });
  });

  it('requests the build without a crumb from a Jenkins without CSRF protection, and says what a refusal said', async () => {
    const open = await capture((captured, response) => {
      response.writeHead(captured.url === '/crumbIssuer/api/json' ? 404 : 201);
      response.end();
    });
    const variables = { JENKINS_USER: 'bot', JENKINS_API_TOKEN: 'token-1' };
    await createRetrainTrigger({ kind: 'jenkins', url: open.url, job: 'main' }, { variables }).trigger(request);
    expect(open.requests[1].headers).not.toHaveProperty('jenkins-crumb');
    const refusing = await capture((captured, response) => {
      response.writeHead(captured.url === '/crumbIssuer/api/json' ? 404 : 403);
      response.end('No valid crumb was included in the request');
    });
    const failure = await createRetrainTrigger({ kind: 'jenkins', url: refusing.url, job: 'main' }, { variables })
      .trigger(request)
      .catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(RetrainTriggerError);
    expect(failure).toMatchObject({ code: 'RETRAIN_TRIGGER_FAILED', status: 403, message: expect.stringContaining('answered 403: No valid crumb') });
  });
});

describe('Azure DevOps', () => {
  it('queues a run through the Runs API with an Entra token for Azure DevOps (workload identity), on the branch, with the declared parameters', async () => {
    const devops = await capture((_captured, response) => {
      response.writeHead(200, { 'content-type': 'application/json' });
      response.end(JSON.stringify({ id: 512, _links: { web: { href: 'https://dev.azure.com/acme/shop/_build/results?buildId=512' } } }));
    });
    const scopes: string[] = [];
    const trigger = createRetrainTrigger(
      { kind: 'azure-devops', organizationUrl: `${devops.url}/acme`, project: 'retail shop', pipelineId: 17, branch: 'release', templateParameters: { reason: 'drift' } },
      {
        variables: {},
        azureToken: async (scope) => {
          scopes.push(scope);
          return 'entra-token';
        },
      },
    );
    expect(await trigger.trigger(request)).toEqual({ status: 200, id: '512', location: 'https://dev.azure.com/acme/shop/_build/results?buildId=512' });
    expect(scopes).toEqual([AZURE_DEVOPS_SCOPE]);
    const [run] = devops.requests;
    expect(run).toMatchObject({ method: 'POST', url: '/acme/retail%20shop/_apis/pipelines/17/runs?api-version=7.1' });
    expect(run.headers.authorization).toBe('Bearer entra-token');
    expect(JSON.parse(run.body)).toEqual({ resources: { repositories: { self: { refName: 'refs/heads/release' } } }, templateParameters: { reason: 'drift' } });
  });

  it('takes a token from the named variable instead, and reports a failed sign-in as a trigger failure', async () => {
    const devops = await capture((_captured, response) => {
      response.writeHead(200);
      response.end('{}');
    });
    await createRetrainTrigger({ kind: 'azure-devops', organizationUrl: devops.url, project: 'p', pipelineId: 1, tokenVariable: 'SYSTEM_ACCESSTOKEN' }, { variables: { SYSTEM_ACCESSTOKEN: 'pat-1' } }).trigger(request);
    expect(devops.requests[0].headers.authorization).toBe('Bearer pat-1');
    const noIdentity = createRetrainTrigger({ kind: 'azure-devops', organizationUrl: devops.url, project: 'p', pipelineId: 1 }, {
      azureToken: () => Promise.reject(new Error('AZURE_FEDERATED_TOKEN_FILE is not set')),
    });
    await expect(noIdentity.trigger(request)).rejects.toThrow(/no token from workload identity: AZURE_FEDERATED_TOKEN_FILE/);
  });
});

describe('Travis CI and webhooks', () => {
  it('Travis: POSTs an API v3 request for the branch, saying why', async () => {
    const travis = await capture((_captured, response) => {
      response.writeHead(202, { 'content-type': 'application/json' });
      response.end(JSON.stringify({ '@type': 'pending', 'request': { id: 9001 } }));
    });
    const trigger = createRetrainTrigger({ kind: 'travis', repository: 'acme/retail-shop', endpoint: travis.url }, { variables: { TRAVIS_API_TOKEN: 't-1' } });
    expect(await trigger.trigger(request)).toEqual({ status: 202, id: '9001' });
    const [sent] = travis.requests;
    expect(sent).toMatchObject({ method: 'POST', url: '/repo/acme%2Fretail-shop/requests' });
    expect(sent.headers).toMatchObject({ 'travis-api-version': '3', 'authorization': 'token t-1' });
    expect(JSON.parse(sent.body)).toEqual({ request: { branch: 'main', message: expect.stringContaining('retrain v-0123456789ab: drift') } });
  });

  it('webhook: POSTs the request as JSON, signed with HMAC-SHA256 when a secret is set; a non-2xx answer fails', async () => {
    const hook = await capture((captured, response) => {
      response.writeHead(captured.url === '/fail' ? 500 : 204);
      response.end();
    });
    const trigger = createRetrainTrigger({ kind: 'webhook', url: `${hook.url}/retrain?team=shop`, secretVariable: 'HOOK_SECRET' }, { variables: { HOOK_SECRET: 's3cr3t' } });
    const outcome = await trigger.trigger(request);
    const [sent] = hook.requests;
    expect(sent.url).toBe('/retrain?team=shop');
    expect(sent.headers['x-retail-mlops-signature-256']).toBe(`sha256=${createHmac('sha256', 's3cr3t').update(sent.body).digest('hex')}`);
    expect(JSON.parse(sent.body)).toMatchObject({ event: 'retrain', delivery: outcome.id, environment: 'staging', reasons: request.reasons, summary: { maxPsi: 0.612 } });
    expect(trigger.target).toBe(`${hook.url}/retrain`);
    await expect(createRetrainTrigger({ kind: 'webhook', url: `${hook.url}/fail` }).trigger(request)).rejects.toThrow(/answered 500/);
  });

  it('an unreachable CI is a trigger failure, not a crash', async () => {
    const closed = await capture(() => undefined);
    servers.pop()!.close();
    await new Promise((resolve) => setTimeout(resolve, 50));
    await expect(createRetrainTrigger({ kind: 'webhook', url: `${closed.url}/x` }, { timeoutMs: 2000 }).trigger(request)).rejects.toThrow(/request failed/);
  });
});

describe('secrets', () => {
  it('come from variables only; every missing one is named at once (unless only describing the trigger)', () => {
    expect(() => createRetrainTrigger({ kind: 'jenkins', url: 'https://jenkins.example.com', job: 'main', userVariable: 'CI_USER' }, { variables: {} })).toThrow(
      /needs the environment variable CI_USER.*needs the environment variable JENKINS_API_TOKEN/,
    );
    expect(() => createRetrainTrigger({ kind: 'travis', repository: 'a/b' }, { variables: { TRAVIS_API_TOKEN: '  ' } })).toThrow(/TRAVIS_API_TOKEN/);
    expect(createRetrainTrigger({ kind: 'travis', repository: 'a/b' }, { variables: {}, requireSecrets: false }).target).toBe('https://api.travis-ci.com/repo/a%2Fb/requests');
  });
});
