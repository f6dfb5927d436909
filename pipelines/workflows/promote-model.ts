import { execFile } from 'node:child_process';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { endpointTargetOf, rolloutEndpoint, type EndpointRollout, type EndpointTarget } from './endpoint-deploy';
import { gitAuthorizationHeader, openOrUpdatePullRequest, parseGitRemote, PullRequestError, type PullRequestResult } from './pull-requests';
import { readProjectConfig } from '../../core/config/settings';
import { RetailMlopsError } from '../../core/errors';
import { evaluateGate, type GateOptions } from '../../core/evaluation/gate';
import type { ModelRegistry } from '../../core/registry/port';
import type { AliasChange, ModelVersion } from '../../core/registry/types';
import { isEnvironment, type Environment } from '../../manifests/environments';
import { readModelPins, withModelPin, writeModelPins } from '../../manifests/model-pins';
import { synthesizeManifests } from '../../manifests/render';

const git = promisify(execFile);

/** A promotion or rollback that cannot go ahead (never gated, nothing to roll back to, dirty tree …). */
export class PromotionError extends RetailMlopsError {
  constructor(message: string) {
    super('PROMOTION_REFUSED', message);
  }
}

export interface PromotionOptions {
  readonly registry: ModelRegistry;
  readonly environment: string;
  /** The git repository holding manifests/pins.json. @default the current directory */
  readonly repository?: string;
  readonly actor: string;
  /**
   * Push the branch and open (or update) its pull request on the remote's host (GitHub or Azure
   * Repos). False keeps a local commit on a new branch, nothing leaves the machine.
   * @default true
   */
  readonly push?: boolean;
  /** The remote to push to; its URL names the host. @default 'origin' */
  readonly remote?: string;
  /** The branch the pull request merges into. @default the current branch, else 'main' (a detached CI checkout) */
  readonly baseBranch?: string;
  /** The API image's digest to pin beside the model (`sha256:…`). @default the environment's pinned digest stays */
  readonly imageDigest?: string;
  /** The thresholds the pull request reports the model against. @default the repository's `.retail-mlops.json` gate, else the built-in one */
  readonly gate?: GateOptions;
  /**
   * The managed endpoint the environment runs on (`.retail-mlops.json` deploy section): rolled over
   * (blue/green, traffic split) to the pinned version and image once the pin is pushed.
   * @default - the environment's entry of the repository's `.retail-mlops.json` deploy section; none there: Kubernetes, Argo CD syncs the merged pin
   */
  readonly endpoint?: EndpointTarget;
  /** Tokens and API URLs (GITHUB_TOKEN, SYSTEM_ACCESSTOKEN, …). @default process.env */
  readonly variables?: NodeJS.ProcessEnv;
  /** @default globalThis.fetch */
  readonly fetch?: typeof fetch;
}

export interface PromotionResult {
  readonly environment: Environment;
  readonly model: string;
  readonly previous: string;
  readonly imageDigest?: string;
  readonly branch: string;
  readonly commit: string;
  readonly message: string;
  /** The pull request opened or updated (absent with `push: false`). */
  readonly pullRequest?: PullRequestResult;
  /** What the managed endpoint did (environments on SageMaker or Azure ML). */
  readonly endpoint?: EndpointRollout;
}

async function aliasHistory(registry: ModelRegistry, alias: string): Promise<readonly AliasChange[]> {
  return registry.aliasHistory(alias).catch((error: unknown) => {
    if (RetailMlopsError.isInstance(error) && error.code === 'ALIAS_NOT_FOUND') return [];
    throw error;
  });
}

function environmentOf(name: string): Environment {
  if (!isEnvironment(name)) throw new PromotionError(`unknown environment '${name}' (dev, staging or production)`);
  return name;
}

/**
 * Promotes a version that passed its gate (it was once the `candidate`) to an environment: pins it in
 * manifests/pins.json, re-renders the manifests, and commits both on a new branch whose message carries
 * the model's lineage and metrics — ready to open as a pull request; the review is the approval. The
 * environment's registry alias records the same change, naming the commit.
 */
export async function promoteModel(options: PromotionOptions & { readonly model: string }): Promise<PromotionResult> {
  const environment = environmentOf(options.environment);
  const version = await options.registry.get(options.model);
  const gated = (await aliasHistory(options.registry, 'candidate')).some((change) => change.to === version.id);
  if (!gated) throw new PromotionError(`${version.id} has not passed the gate: it was never the candidate (run 'retail-mlops gate --alias candidate')`);
  return pin(options, environment, version, 'promote');
}

/** Pins the version the environment had before its current one, the same reviewed way. */
export async function rollbackModel(options: PromotionOptions): Promise<PromotionResult> {
  const environment = environmentOf(options.environment);
  const history = await aliasHistory(options.registry, environment);
  const current = history.at(-1);
  if (!current?.from) throw new PromotionError(`${environment} has no earlier version to roll back to`);
  return pin(options, environment, await options.registry.get(current.from), 'rollback');
}

/** The branch a pushed promotion of `environment` lives on: one per environment, so its pull request is updated, not duplicated. */
export function promotionBranch(environment: Environment): string {
  return `promote/${environment}`;
}

async function pin(given: PromotionOptions, environment: Environment, version: ModelVersion, action: 'promote' | 'rollback'): Promise<PromotionResult> {
  const repository = path.resolve(given.repository ?? '.');
  // the gate the pull request reports against and the endpoint to roll over: the repository's settings unless given
  const config = given.gate && given.endpoint ? undefined : readProjectConfig(repository);
  const options: PromotionOptions = {
    ...given,
    gate: given.gate ?? config?.gate,
    endpoint: given.endpoint ?? endpointTargetOf((config as { readonly deploy?: unknown } | undefined)?.deploy, environment),
  };
  const push = options.push ?? true;
  const remote = options.remote ?? 'origin';
  const variables = options.variables ?? process.env;
  const run = async (...args: string[]): Promise<string> => (await git('git', ['-C', repository, ...args])).stdout.trim();
  const pinsFile = path.join(repository, 'manifests', 'pins.json');
  const pins = await readModelPins(pinsFile);
  const previous = pins[environment].model;
  const imageDigest = options.imageDigest ?? pins[environment].imageDigest;
  if (options.imageDigest !== undefined && !/^sha256:[a-f0-9]{64}$/.test(options.imageDigest)) {
    throw new PromotionError(`the image digest must be sha256: and 64 lowercase hex digits, got ${JSON.stringify(options.imageDigest)}`);
  }
  if (previous === version.id && imageDigest === pins[environment].imageDigest) throw new PromotionError(`${environment} already pins ${version.id}`);
  if ((await run('status', '--porcelain', '--', 'manifests')) !== '') throw new PromotionError('manifests/ has uncommitted changes: commit or stash them first');
  if (options.endpoint && imageDigest === undefined) {
    throw new PromotionError(`${environment} runs on the ${options.endpoint.target} endpoint ${options.endpoint.endpointName}, which runs an image by digest: pass --image-digest (the pipeline's build-image stage writes it)`);
  }
  // before anything changes: the host must be one we can open pull requests on
  const host = push ? parseGitRemote(await remoteUrl(run, remote), Boolean(variables.GITHUB_API_URL)) : undefined;
  if (host && gitAuthorizationHeader(host, variables) === undefined) {
    throw new PullRequestError(
      host.kind === 'github'
        ? 'GITHUB_TOKEN (or GH_TOKEN) is not set: a token that may push and open pull requests is needed (or pass --no-push)'
        : 'SYSTEM_ACCESSTOKEN (map $(System.AccessToken) into the step) or AZURE_DEVOPS_EXT_PAT is not set: a token that may push and open pull requests is needed (or pass --no-push)',
    );
  }
  const currentBranch = await run('branch', '--show-current');
  if (push && /^(promote|rollback)\//.test(currentBranch)) {
    throw new PromotionError(`HEAD is on the promotion branch ${currentBranch}: switch to the branch the promotion starts from (e.g. main) first`);
  }
  const baseBranch = options.baseBranch ?? (currentBranch || 'main');

  // pushed: one branch per environment, started afresh from the base each time (force-pushed);
  // local: a new branch per promotion, as before
  const branch = push ? promotionBranch(environment) : `${action}/${environment}/${version.id}`;
  await run('switch', push ? '--force-create' : '--create', branch);
  await writeModelPins(pinsFile, withModelPin(pins, environment, { model: version.id, imageDigest }));
  await synthesizeManifests({ pinsFile, outputDirectory: path.join(repository, 'manifests', 'dist') });
  await run('add', '--', 'manifests/pins.json', 'manifests/dist');
  const message = commitMessage(action, environment, version, previous, imageDigest);
  await run('-c', `user.name=${options.actor}`, '-c', `user.email=${options.actor}@retail-mlops.invalid`, 'commit', '--quiet', '--message', message);
  const commit = await run('rev-parse', 'HEAD');

  let pullRequest: PullRequestResult | undefined;
  if (host) {
    await pushBranch(repository, remote, branch, gitAuthorizationHeader(host, variables));
    pullRequest = await openOrUpdatePullRequest(
      host,
      { branch, base: baseBranch, title: message.split('\n')[0], description: pullRequestDescription(action, environment, version, previous, imageDigest, options.gate, await candidateRecord(options.registry, version.id)) },
      { environment: variables, fetch: options.fetch },
    );
  }
  // a managed endpoint has no controller that waits for the merge: the pipeline's approval gated this run
  const endpoint = options.endpoint && imageDigest ? await rolloutEndpoint(options.endpoint, { imageDigest, modelVersion: version.id }) : undefined;
  const where = pullRequest ? `pull request ${pullRequest.url}` : `branch ${branch} (open a pull request to deploy)`;
  await options.registry.setAlias(environment, version.id, {
    actor: options.actor,
    reason: `${action === 'promote' ? 'promoted' : 'rolled back'} by commit ${commit.slice(0, 12)}, ${where}`,
  });
  return {
    environment,
    model: version.id,
    previous,
    ...(imageDigest ? { imageDigest } : {}),
    branch,
    commit,
    message,
    ...(pullRequest ? { pullRequest } : {}),
    ...(endpoint ? { endpoint } : {}),
  };
}

async function remoteUrl(run: (...args: string[]) => Promise<string>, remote: string): Promise<string> {
  try {
    return await run('remote', 'get-url', remote);
  } catch (error) {
    throw new PromotionError(`the repository has no remote '${remote}' to push the promotion to (pass --no-push to keep it local): ${(error as Error).message.split('\n')[0]}`);
  }
}

/**
 * Force-pushes the promotion branch (it is rebuilt from the base on every promotion). A token is
 * handed to git as an extra HTTP header through git's environment configuration, never on the
 * command line (where `ps` would show it).
 */
async function pushBranch(repository: string, remote: string, branch: string, authorization: string | undefined): Promise<void> {
  const environment: NodeJS.ProcessEnv = { ...process.env };
  if (authorization) {
    const index = Number(environment.GIT_CONFIG_COUNT ?? 0);
    Object.assign(environment, { GIT_CONFIG_COUNT: String(index + 1), [`GIT_CONFIG_KEY_${index}`]: 'http.extraHeader', [`GIT_CONFIG_VALUE_${index}`]: authorization });
  }
  try {
    await git('git', ['-C', repository, 'push', '--force', '--quiet', remote, `HEAD:refs/heads/${branch}`], { env: environment });
  } catch (error) {
    throw new PromotionError(`git push to ${remote} failed: ${(error as { stderr?: string }).stderr?.trim() || (error as Error).message}`);
  }
}

/** The change that made the version the candidate: the gate's own record. */
async function candidateRecord(registry: ModelRegistry, versionId: string): Promise<AliasChange | undefined> {
  return (await aliasHistory(registry, 'candidate')).filter((change) => change.to === versionId).at(-1);
}

function commitMessage(action: 'promote' | 'rollback', environment: Environment, version: ModelVersion, previous: string, imageDigest: string | undefined): string {
  const { metrics, lineage } = version;
  const perClass = Object.entries(metrics.perClass)
    .map(([label, values]) => `${label} precision ${values.precision.toFixed(4)} recall ${values.recall.toFixed(4)}`)
    .join('; ');
  return [
    `${action === 'promote' ? 'Promote' : 'Roll back'} ${environment} to model ${version.id} (${lineage.algorithm})`,
    '',
    `Pins ${version.id} (#${version.sequence}) in manifests/pins.json for ${environment}, replacing ${previous}, and re-renders manifests/dist.`,
    ...(imageDigest ? [`The API image is pinned by digest: ${imageDigest}.`] : []),
    '',
    'Metrics on held-out weeks:',
    `  accuracy ${metrics.accuracy.toFixed(4)}, macro-F1 ${metrics.macroF1.toFixed(4)}, log-loss ${metrics.logLoss.toFixed(4)}, ${metrics.rows} baskets`,
    `  ${perClass}`,
    'Lineage:',
    `  lake version ${lineage.lakeVersion}; trained on weeks ${lineage.trainingWeeks.join(' ')}; evaluated on ${lineage.evaluationWeeks.join(' ')}`,
    `  feature spec ${lineage.featureSpecVersion} (${lineage.featureSpecHash}); code ${lineage.codeCommit}`,
    `  input files: ${lineage.inputFiles.map((file) => `${file.path} (${file.sha256.slice(0, 12)})`).join(', ')}`,
    `  parameters: ${JSON.stringify(lineage.parameters)}`,
    '',
    `Retail-Mlops-Model: ${version.id}`,
    `Retail-Mlops-Environment: ${environment}`,
    `Retail-Mlops-Previous-Model: ${previous}`,
  ].join('\n');
}

/** The pull request's description (Markdown): what changes, metrics, the gate's verdict, lineage. */
function pullRequestDescription(
  action: 'promote' | 'rollback',
  environment: Environment,
  version: ModelVersion,
  previous: string,
  imageDigest: string | undefined,
  gate: GateOptions | undefined,
  candidate: AliasChange | undefined,
): string {
  const { metrics, lineage } = version;
  const verdict = evaluateGate(metrics, undefined, gate);
  const number = (value: number): string => value.toFixed(4);
  return [
    `${action === 'promote' ? 'Promotes' : 'Rolls back'} **${environment}** to model \`${version.id}\` (#${version.sequence}, ${lineage.algorithm}), replacing \`${previous}\`.`,
    ...(imageDigest ? [`API image: \`${imageDigest}\`.`] : []),
    '',
    environment === 'production'
      ? 'Production: the pipeline\'s approval let this run; merging needs this review. Argo CD syncs production by hand after the merge.'
      : 'Merging deploys it: Argo CD syncs the rendered manifests (or the pipeline updates the managed endpoint).',
    '',
    '### Metrics on held-out weeks',
    '',
    '| metric | value |',
    '| --- | ---: |',
    `| accuracy | ${number(metrics.accuracy)} |`,
    `| macro-F1 | ${number(metrics.macroF1)} |`,
    `| log-loss | ${number(metrics.logLoss)} |`,
    `| baskets | ${metrics.rows} |`,
    ...Object.entries(metrics.perClass).map(([label, values]) => `| ${label} precision / recall / F1 | ${number(values.precision)} / ${number(values.recall)} / ${number(values.f1)} |`),
    '',
    '### Gate',
    '',
    candidate
      ? `Passed the gate: \`candidate\` since ${candidate.at} by ${candidate.actor} (${candidate.reason}).`
      : 'This version is not the current `candidate` (a rollback to an earlier promotion).',
    `KPI floor: ${verdict.passed ? 'passed' : 'FAILED'}`,
    ...verdict.checks.map((check) => `- ${check.passed ? '✅' : '❌'} ${check.metric} ${number(check.actual)} ≥ ${number(check.threshold)}`),
    '',
    '### Lineage',
    '',
    `- lake version \`${lineage.lakeVersion}\`; trained on weeks ${lineage.trainingWeeks.join(', ')}; evaluated on ${lineage.evaluationWeeks.join(', ')}`,
    `- feature spec ${lineage.featureSpecVersion} (\`${lineage.featureSpecHash}\`); code \`${lineage.codeCommit}\``,
    `- input files: ${lineage.inputFiles.map((file) => `\`${file.path}\` (${file.sha256.slice(0, 12)})`).join(', ')}`,
    `- parameters: \`${JSON.stringify(lineage.parameters)}\``,
    '',
    `<!-- retail-mlops: environment=${environment} model=${version.id} -->`,
  ].join('\n');
}
