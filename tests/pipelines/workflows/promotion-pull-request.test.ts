/**
 * Promotion as a pull request: `promote` / `rollback` force-push `promote/<environment>` to the remote
 * (a local bare repository standing in for the host: git's `pushInsteadOf` sends pushes there while the
 * remote URL still names GitHub or Azure Repos) and open or update that branch's pull request through the
 * host's REST API (a loopback stand-in held to the documented shapes). One open pull request per
 * environment: a second promotion updates it.
 */
import { execFileSync } from 'node:child_process';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { ModelRegistry } from '../../../core/registry/port';
import { parseModelPins } from '../../../manifests/model-pins';
import { endpointTargetOf } from '../../../pipelines/workflows/endpoint-deploy';
import { promoteModel, rollbackModel } from '../../../pipelines/workflows/promote-model';
import { parseGitRemote } from '../../../pipelines/workflows/pull-requests';
import { createLocalRegistry } from '../../../providers/local/registry';
import { sampleRegistration } from '../../conformance/registry-fixtures';
import { cli } from '../../helpers/cli';
import { startGitHostApi, type GitHostApi } from '../../helpers/git-host-api';
import { REPO_ROOT, temporaryDirectory } from '../../helpers/paths';
import { REPOSITORY, startEndpointApi } from '../../helpers/sagemaker-endpoint-api';

const git = (repository: string, ...args: string[]): string => execFileSync('git', ['-C', repository, ...args], { encoding: 'utf8' }).trim();
const DIGEST = `sha256:${'ab'.repeat(32)}`;

describe('parseGitRemote', () => {
  it('reads GitHub and Azure Repos remotes over https and ssh', () => {
    expect(parseGitRemote('https://github.com/acme/retail-mlops.git')).toEqual({ kind: 'github', host: 'github.com', owner: 'acme', repository: 'retail-mlops' });
    expect(parseGitRemote('git@github.com:acme/retail-mlops.git')).toMatchObject({ kind: 'github', owner: 'acme', repository: 'retail-mlops' });
    expect(parseGitRemote('ssh://git@github.example.com:2222/acme/retail-mlops')).toMatchObject({ kind: 'github', host: 'github.example.com' });
    expect(parseGitRemote('https://git.acme.internal/acme/retail-mlops.git', true)).toMatchObject({ kind: 'github', host: 'git.acme.internal' });
    const azure = { kind: 'azure-repos', organization: 'acme', project: 'Retail ML', repository: 'retail-mlops' };
    expect(parseGitRemote('https://acme@dev.azure.com/acme/Retail%20ML/_git/retail-mlops')).toEqual(azure);
    expect(parseGitRemote('git@ssh.dev.azure.com:v3/acme/Retail%20ML/retail-mlops')).toEqual(azure);
    expect(parseGitRemote('https://acme.visualstudio.com/DefaultCollection/Retail%20ML/_git/retail-mlops')).toEqual(azure);
  });

  it('refuses a remote that names neither host', () => {
    expect(() => parseGitRemote('/srv/git/retail-mlops.git')).toThrow(/neither a GitHub nor an Azure Repos repository/);
    expect(() => parseGitRemote('https://gitlab.com/acme/retail-mlops.git')).toThrow(/--no-push/);
  });
});

interface TeamRepository {
  readonly work: string;
  readonly bare: string;
}

/** A team repository with pins.json on `main`, its origin at `remoteUrl`, pushes going to a bare repository. */
async function teamRepository(root: string, name: string, remoteUrl: string): Promise<TeamRepository> {
  const work = path.join(root, name);
  const bare = path.join(root, `${name}-remote.git`);
  execFileSync('git', ['init', '--quiet', '--bare', '--initial-branch', 'main', bare]);
  await fs.mkdir(path.join(work, 'manifests'), { recursive: true });
  await fs.copyFile(path.join(REPO_ROOT, 'manifests', 'pins.json'), path.join(work, 'manifests', 'pins.json'));
  git(work, 'init', '--quiet', '--initial-branch', 'main');
  git(work, 'add', '.');
  git(work, '-c', 'user.name=test', '-c', 'user.email=test@example.invalid', 'commit', '--quiet', '--message', 'initial');
  git(work, 'remote', 'add', 'origin', remoteUrl);
  git(work, 'config', `url.${bare}.pushInsteadOf`, remoteUrl);
  git(work, 'push', '--quiet', 'origin', 'main');
  return { work, bare };
}

describe('promotion pull requests', () => {
  const scratch = temporaryDirectory();
  let api: GitHostApi;
  let registry: ModelRegistry;
  const versions: string[] = [];

  beforeAll(async () => {
    api = await startGitHostApi();
    registry = createLocalRegistry({ root: path.join(scratch.path, 'registry') });
    for (const seed of [1, 2]) versions.push((await registry.register(sampleRegistration(seed))).version.id);
    await registry.setAlias('candidate', versions[0], { actor: 'ci:jenkins#7', reason: 'passed the gate on main' });
  });
  afterAll(async () => {
    await api.close();
    scratch.remove();
  });

  describe('on GitHub', () => {
    let team: TeamRepository;
    const variables = (): NodeJS.ProcessEnv => ({ GITHUB_TOKEN: 'ghs_test-token', GITHUB_API_URL: api.url });
    beforeAll(async () => {
      team = await teamRepository(scratch.path, 'github-team', 'https://github.com/acme/retail-mlops.git');
    });

    it('refuses without a token before changing anything', async () => {
      await expect(promoteModel({ registry, model: 'candidate', environment: 'staging', repository: team.work, actor: 'ci', variables: {} })).rejects.toThrow(/GITHUB_TOKEN/);
      expect(git(team.work, 'branch', '--show-current')).toBe('main');
      expect(git(team.bare, 'branch', '--list')).toBe('* main');
    });

    it('pushes promote/<environment> and opens a pull request with metrics, gate and lineage', async () => {
      const requestsBefore = api.requests.length;
      const result = await promoteModel({ registry, model: 'candidate', environment: 'staging', repository: team.work, actor: 'ci', variables: variables(), imageDigest: DIGEST });
      expect(result.branch).toBe('promote/staging');
      expect(result.pullRequest).toMatchObject({ host: 'github', number: 1, url: 'https://github.com/acme/retail-mlops/pull/1', updated: false });
      // the remote has the branch, and it pins the model and the image digest
      const pins = parseModelPins(git(team.bare, 'show', 'promote/staging:manifests/pins.json'), 'remote');
      expect(pins.staging).toEqual({ model: versions[0], imageDigest: DIGEST });
      expect(git(team.bare, 'show', 'promote/staging:manifests/dist/eks/staging/retail-mlops-api.k8s.yaml')).toContain(`@${DIGEST}`);
      expect(git(team.bare, 'rev-parse', 'promote/staging')).toBe(result.commit);

      const calls = api.requests.slice(requestsBefore);
      expect(calls.map((call) => `${call.method} ${call.path}`)).toEqual(['GET /repos/acme/retail-mlops/pulls', 'POST /repos/acme/retail-mlops/pulls']);
      expect(calls[0].query).toEqual({ state: 'open', head: 'acme:promote/staging', base: 'main' });
      expect(calls[1].headers).toMatchObject({ 'authorization': 'Bearer ghs_test-token', 'accept': 'application/vnd.github+json', 'x-github-api-version': '2022-11-28' });
      const body = calls[1].body as { title: string; head: string; base: string; body: string };
      expect(body).toMatchObject({ head: 'promote/staging', base: 'main' });
      expect(body.title).toMatch(new RegExp(`^Promote staging to model ${versions[0]}`));
      expect(body.body).toMatch(/### Metrics on held-out weeks[\s\S]*\| accuracy \| 0\.\d{4} \|/);
      expect(body.body).toMatch(/### Gate[\s\S]*Passed the gate: `candidate` since .* by ci:jenkins#7 \(passed the gate on main\)/);
      expect(body.body).toMatch(/KPI floor: (passed|FAILED)\n- (✅|❌) accuracy/);
      expect(body.body).toMatch(/### Lineage[\s\S]*lake version `[^`]+`; trained on weeks/);
      expect(body.body).toContain(DIGEST);
      // the registry's alias names the pull request
      expect((await registry.aliasHistory('staging')).at(-1)?.reason).toContain('pull request https://github.com/acme/retail-mlops/pull/1');
    });

    it('a later promotion of the same environment updates the open pull request instead of opening another', async () => {
      git(team.work, 'switch', '--quiet', 'main');
      await registry.setAlias('candidate', versions[1], { actor: 'ci:jenkins#8', reason: 'passed the gate on main' });
      const requestsBefore = api.requests.length;
      const result = await promoteModel({ registry, model: 'candidate', environment: 'staging', repository: team.work, actor: 'ci', variables: variables() });
      expect(result.pullRequest).toMatchObject({ number: 1, updated: true });
      expect(api.requests.slice(requestsBefore).map((call) => call.method)).toEqual(['GET', 'PATCH']);
      expect(api.pullRequests.filter((pull) => pull.state === 'open' && pull.head === 'promote/staging')).toHaveLength(1);
      expect(api.pullRequests[0].title).toContain(versions[1]);
      // the branch was rebuilt from main (force-pushed): one commit on top of main, pinning the newer
      // version (no digest given this time, and main pins none)
      expect(git(team.bare, 'rev-list', '--count', 'main..promote/staging')).toBe('1');
      expect(parseModelPins(git(team.bare, 'show', 'promote/staging:manifests/pins.json'), 'remote').staging).toEqual({ model: versions[1] });
    });

    it('refuses to start from a promotion branch (promotions would stack)', async () => {
      git(team.work, 'switch', '--quiet', 'promote/staging');
      await expect(promoteModel({ registry, model: versions[0], environment: 'dev', repository: team.work, actor: 'ci', variables: variables() })).rejects.toThrow(/switch to the branch/);
      git(team.work, 'switch', '--quiet', 'main');
    });

    it('the CLI opens the pull request for production, with --image-digest, tokens from the environment', async () => {
      const result = await cli(
        ['promote', '--model', 'candidate', '--env', 'production', '--image-digest', DIGEST, '--registry', path.join(scratch.path, 'registry'), '--repo', team.work, '--json'],
        { env: variables() },
      );
      expect(result.code, result.stderr).toBe(0);
      const promotion = JSON.parse(result.stdout) as { branch: string; pullRequest: { url: string; updated: boolean } };
      expect(promotion.branch).toBe('promote/production');
      expect(promotion.pullRequest.updated).toBe(false);
      const created = api.pullRequests.find((pull) => pull.head === 'promote/production');
      expect(created?.body).toMatch(/Production: the pipeline's approval let this run; merging needs this review/);
    });
  });

  describe('on Azure Repos', () => {
    let team: TeamRepository;
    const variables = (): NodeJS.ProcessEnv => ({ SYSTEM_ACCESSTOKEN: 'job-access-token', SYSTEM_COLLECTIONURI: `${api.url}/acme/` });
    beforeAll(async () => {
      team = await teamRepository(scratch.path, 'azure-team', 'https://acme@dev.azure.com/acme/Retail%20ML/_git/retail-mlops');
    });

    it('opens the pull request with the job token, updates it with a personal access token; a rollback after the merge opens another', async () => {
      const requestsBefore = api.requests.length;
      const promoted = await promoteModel({ registry, model: versions[0], environment: 'dev', repository: team.work, actor: 'ci', variables: variables() });
      expect(promoted.pullRequest?.host).toBe('azure-repos');
      expect(promoted.pullRequest?.url).toBe(`${api.url}/acme/Retail%20ML/_git/retail-mlops/pullrequest/${promoted.pullRequest?.number}`);
      const calls = api.requests.slice(requestsBefore);
      expect(calls.map((call) => `${call.method} ${call.path}`)).toEqual([
        'GET /acme/Retail%20ML/_apis/git/repositories/retail-mlops/pullrequests',
        'POST /acme/Retail%20ML/_apis/git/repositories/retail-mlops/pullrequests',
      ]);
      expect(calls[0].query).toEqual({
        'searchCriteria.sourceRefName': 'refs/heads/promote/dev',
        'searchCriteria.targetRefName': 'refs/heads/main',
        'searchCriteria.status': 'active',
        'api-version': '7.1',
      });
      expect(calls[1].headers.authorization).toBe('Bearer job-access-token');
      expect(calls[1].body).toMatchObject({ sourceRefName: 'refs/heads/promote/dev', targetRefName: 'refs/heads/main' });
      expect((calls[1].body as { description: string }).description).toMatch(/### Lineage/);
      expect(parseModelPins(git(team.bare, 'show', 'promote/dev:manifests/pins.json'), 'remote').dev.model).toBe(versions[0]);

      // promoted again before the merge: the same pull request is updated (a personal access token this time)
      git(team.work, 'switch', '--quiet', 'main');
      const personal = { AZURE_DEVOPS_EXT_PAT: 'personal-token', SYSTEM_COLLECTIONURI: `${api.url}/acme/` };
      const again = await promoteModel({ registry, model: versions[1], environment: 'dev', repository: team.work, actor: 'ci', variables: personal });
      expect(again.pullRequest).toMatchObject({ number: promoted.pullRequest?.number, updated: true });
      const patch = api.requests.at(-1)!;
      expect(patch.method).toBe('PATCH');
      expect(patch.path).toBe(`/acme/Retail%20ML/_apis/git/repositories/retail-mlops/pullrequests/${promoted.pullRequest?.number}`);
      expect(patch.headers.authorization).toBe(`Basic ${Buffer.from(':personal-token').toString('base64')}`);
      expect(api.pullRequests.filter((pull) => pull.state === 'open' && pull.head === 'promote/dev')).toHaveLength(1);

      // merged (the host closes it); a rollback then opens a new pull request
      git(team.work, 'switch', '--quiet', 'main');
      git(team.work, 'merge', '--quiet', 'promote/dev');
      api.pullRequests.find((pull) => pull.number === promoted.pullRequest?.number)!.state = 'closed';
      const rollback = await rollbackModel({ registry, environment: 'dev', repository: team.work, actor: 'ci', variables: variables() });
      expect(rollback.model).toBe(versions[0]);
      expect(rollback.pullRequest?.updated).toBe(false);
      expect((api.requests.at(-1)!.body as { title: string }).title).toMatch(/^Roll back dev to model/);
      expect(parseModelPins(git(team.bare, 'show', 'promote/dev:manifests/pins.json'), 'remote').dev.model).toBe(versions[0]);
    });
  });
});

describe('the deploy section: environments on managed endpoints', () => {
  it('reads an environment\'s endpoint, kubernetes by default, and reports every problem of an entry', () => {
    const deploy = { production: { target: 'sagemaker', region: 'eu-west-1', endpointName: 'retail-mlops-production', imageRepository: REPOSITORY }, dev: { target: 'kubernetes' } };
    expect(endpointTargetOf(deploy, 'production')).toMatchObject({ target: 'sagemaker', endpointName: 'retail-mlops-production' });
    expect(endpointTargetOf(deploy, 'dev')).toBeUndefined();
    expect(endpointTargetOf(deploy, 'staging')).toBeUndefined();
    expect(endpointTargetOf(undefined, 'production')).toBeUndefined();
    let problems: readonly string[] = [];
    try {
      endpointTargetOf({ staging: { target: 'azureml', endpointName: 'x', canaryPercent: 100, extra: 1 } }, 'staging');
    } catch (error) {
      problems = (error as { problems: string[] }).problems;
    }
    expect(problems.map((problem) => problem.split(' ')[0].replace(/"/g, ''))).toEqual(['subscriptionId', 'resourceGroup', 'workspace', 'imageRepository', 'unknown', 'canaryPercent']);
  });

  it('promote to a SageMaker environment pushes the pin and rolls the endpoint over blue/green (captured SDK calls)', async () => {
    const scratch = temporaryDirectory();
    const sageMaker = await startEndpointApi();
    const gitHost = await startGitHostApi();
    vi.stubEnv('AWS_ACCESS_KEY_ID', 'test');
    vi.stubEnv('AWS_SECRET_ACCESS_KEY', 'test');
    try {
      const registry = createLocalRegistry({ root: path.join(scratch.path, 'registry') });
      const { version } = await registry.register(sampleRegistration(3));
      await registry.setAlias('candidate', version.id, { actor: 'ci', reason: 'passed the gate' });
      const team = await teamRepository(scratch.path, 'endpoint-team', 'https://github.com/acme/retail-mlops.git');
      const endpoint = {
        target: 'sagemaker', region: 'eu-west-1', endpointName: 'retail-mlops-production', imageRepository: REPOSITORY, endpointUrl: sageMaker.endpoint, canaryWaitSeconds: 60,
      } as const;
      const variables = { GITHUB_TOKEN: 'ghs_test-token', GITHUB_API_URL: gitHost.url };
      await expect(promoteModel({ registry, model: 'candidate', environment: 'production', repository: team.work, actor: 'ci', variables, endpoint })).rejects.toThrow(/runs an image by digest: pass --image-digest/);

      const result = await promoteModel({ registry, model: 'candidate', environment: 'production', repository: team.work, actor: 'ci', variables, endpoint, imageDigest: DIGEST });
      expect(result.pullRequest?.url).toMatch(/\/pull\/\d+$/);
      expect(result.endpoint).toMatchObject({ endpointName: 'retail-mlops-production', changed: true, previousModel: 'retail-mlops-production-model-a' });
      const update = sageMaker.requests.find((request) => request.target === 'UpdateEndpoint')!.body;
      expect(update.DeploymentConfig.BlueGreenUpdatePolicy.TrafficRoutingConfiguration).toEqual({ Type: 'CANARY', CanarySize: { Type: 'CAPACITY_PERCENT', Value: 10 }, WaitIntervalInSeconds: 60 });
      const model = sageMaker.requests.find((request) => request.target === 'CreateModel')!.body;
      expect(model.PrimaryContainer).toMatchObject({ Image: `${REPOSITORY}@${DIGEST}`, Environment: { RETAIL_MLOPS_MODEL: version.id } });
    } finally {
      vi.unstubAllEnvs();
      await sageMaker.close();
      await gitHost.close();
      scratch.remove();
    }
  });
});
