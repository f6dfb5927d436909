/**
 * The pipeline model: one typed description of the stages a `git push` runs. The Jenkins, Travis CI
 * and Azure Pipelines renderers (pipelines/jenkins.ts, travis.ts, azure.ts) and the local runner
 * (pipelines/runner.ts) all read this one model, so the four never drift apart.
 *
 * The model is plain readonly data: `createPipelineModel(options)` validates the options (every
 * problem at once) and returns the stages in order. Nothing here imports projen or a CI system.
 */
import { ProblemCollector } from '../core/errors';

/** Where the lake, the registry and training live. */
export type CloudProvider = 'local' | 'aws' | 'azure';

/** The CLI, the way the stages call it. */
export type CommandLineInvocation = string;

/** What a stage needs before it may run. */
export interface StageCondition {
  /** The stage runs only on these branches; empty = every branch. */
  readonly branches: readonly string[];
  /** A person of `group` must approve before the stage runs (production promotion). */
  readonly approval?: ManualApproval;
}

export interface ManualApproval {
  /** The deployment environment the approval guards (Azure Pipelines: the `environment:` that holds the check). */
  readonly environment: string;
  /** Who may approve: a Jenkins user/group (input `submitter`), the Azure DevOps group configured on the environment. */
  readonly group: string;
  /** The question shown to the approver. */
  readonly message: string;
}

/** Something kept between runs (npm's download cache) or handed from stage to stage (lake, registry). */
export interface StageCache {
  /** `npm`: npm's download cache, keyed by package-lock.json; `directory`: a working directory such as the lake. */
  readonly kind: 'npm' | 'directory';
  /** Stable identifier, e.g. `npm`, `lake`, `registry` (cache keys are built from it). */
  readonly name: string;
  /**
   * Path relative to the repository root. For `npm` it is informational: each CI system keeps npm's
   * cache where its own cache feature expects it (Travis `cache: npm`, Azure `$(Pipeline.Workspace)/.npm`).
   */
  readonly path: string;
}

/** A file or folder a stage publishes for people and later stages (report, metrics, model). */
export interface StageArtifact {
  /** Unique in the pipeline, `[a-z][a-z0-9-]*` (Azure artifact names, Jenkins fingerprints). */
  readonly name: string;
  /** Path relative to the repository root. */
  readonly path: string;
  /** True when `path` is a folder (everything under it is published). */
  readonly isFolder: boolean;
  readonly kind: 'report' | 'metrics' | 'model' | 'manifests';
}

/** The cloud identity a stage runs under. Never long-lived keys: OIDC federation only. */
export type StageCredentials =
  | { readonly cloud: 'none' }
  | {
    readonly cloud: 'aws';
    /** IAM role assumed with web identity (OIDC). */
    readonly roleArn: string;
    readonly region: string;
    /** Jenkins: id of the OIDC id-token credential (file) bound to AWS_WEB_IDENTITY_TOKEN_FILE. */
    readonly jenkinsTokenCredentialId: string;
    /** Azure Pipelines: a workload-identity-federation service connection whose token AWS trusts. */
    readonly serviceConnection: string;
  }
  | {
    readonly cloud: 'azure';
    /** Azure Pipelines: the workload-identity-federation service connection (AzureCLI@2). */
    readonly serviceConnection: string;
    readonly tenantId: string;
    readonly clientId: string;
    readonly subscriptionId: string;
    /** Jenkins: id of the OIDC id-token credential (file) bound to AZURE_FEDERATED_TOKEN_FILE. */
    readonly jenkinsTokenCredentialId: string;
  };

/**
 * A secret a stage's commands read from an environment variable, bound by each CI system its own way
 * (never written into the CI file): Jenkins from a "secret text" credential, Azure Pipelines from a
 * secret variable or the job's own token, Travis CI from a repository setting.
 */
export interface StageSecret {
  /** The variable the commands read, e.g. `GITHUB_TOKEN`, `SYSTEM_ACCESSTOKEN`. */
  readonly variable: string;
  /** Jenkins: id of the secret-text credential bound to `variable`. */
  readonly jenkinsCredentialId: string;
  /** Azure Pipelines: the macro mapped into the step's `env` (secret variables are never exported by themselves), e.g. `$(System.AccessToken)`. */
  readonly azurePipelinesValue: string;
  /** What the secret is for (rendered as a note). */
  readonly purpose: string;
}

/** One stage of the pipeline. */
export interface PipelineStage {
  /** Machine name, `[a-z][a-z0-9-]*`, unique; `--stage` takes it. Azure stage ids derive from it. */
  readonly id: string;
  /** Display name, unique (Jenkins `stage('…')`, Travis `stage:`, Azure `displayName`). */
  readonly name: string;
  /** Shell commands, run in order from the repository root; the first failure fails the stage. */
  readonly commands: readonly string[];
  readonly condition: StageCondition;
  readonly caches: readonly StageCache[];
  readonly artifacts: readonly StageArtifact[];
  readonly credentials: StageCredentials;
  /** Variables for this stage only (the pipeline's `environment` applies to every stage). */
  readonly environment: Readonly<Record<string, string>>;
  /** Executables the commands need beyond node and npm (the local runner skips the stage when one is missing). */
  readonly requiredTools: readonly string[];
  /**
   * Whether the stage needs the project's dependencies installed first. CI systems that give every
   * stage a fresh machine (Travis, Azure Pipelines) run the pipeline's `agentSetup` before it.
   */
  readonly needsDependencies: boolean;
  /** Secrets the commands read from the environment. @default [] */
  readonly secrets?: readonly StageSecret[];
}

/** The whole pipeline: what every renderer and the local runner consume. */
export interface PipelineModel {
  readonly name: string;
  readonly provider: CloudProvider;
  /** The branch `main`-only stages run on. */
  readonly mainBranch: string;
  /** Node.js major version for the CI machines. */
  readonly nodeVersion: string;
  /** Whole-run limit in minutes (Jenkins `timeout`, Azure `timeoutInMinutes`). */
  readonly timeoutMinutes: number;
  /** Commands a fresh CI machine runs before any stage whose `needsDependencies` is true. */
  readonly agentSetup: readonly string[];
  /** Variables for every stage. */
  readonly environment: Readonly<Record<string, string>>;
  /** Jenkins-only settings. */
  readonly jenkins: { readonly agentLabel?: string; readonly nodeJsInstallation?: string };
  readonly stages: readonly PipelineStage[];
}

/** A stage a project adds to the standard ones. */
export interface AdditionalStage {
  readonly id: string;
  readonly name: string;
  readonly commands: readonly string[];
  /** Insert after the stage with this id. @default - appended at the end */
  readonly after?: string;
  /** @default - every branch */
  readonly branches?: readonly string[];
  /** @default false */
  readonly needsCloud?: boolean;
  /** @default {} */
  readonly environment?: Readonly<Record<string, string>>;
  /** @default [] */
  readonly artifacts?: readonly StageArtifact[];
  /** @default [] */
  readonly requiredTools?: readonly string[];
}

/** Options of the standard retail-mlops pipeline. Flat and readonly; validated by `createPipelineModel`. */
export interface PipelineOptions {
  /** @default 'retail-mlops' */
  readonly name?: string;
  /** Where lake, registry and training live; decides which stages need cloud credentials. @default 'local' */
  readonly provider?: CloudProvider;
  /** The branch that registers and promotes models. @default 'main' */
  readonly mainBranch?: string;
  /**
   * Deployment environments, promoted in this order, one promote stage each; the last is production.
   * @default ['staging', 'production']
   */
  readonly environments?: readonly string[];
  /** The environment that needs a manual approval before promotion. @default - the last of `environments` */
  readonly approvalEnvironment?: string;
  /** Who may approve that promotion. @default 'release-approvers' */
  readonly approvalGroup?: string;
  /** How the stages call the project's CLI. @default 'npx retail-mlops' */
  readonly cli?: CommandLineInvocation;
  /**
   * The environment of `.retail-mlops.json` the data, training and registry stages run in: every CLI call
   * gets `--environment <name>`, so its provider options (region, roles, workspace, backend) and its
   * landing location come from the settings, never from this repository's layout.
   * @default - none: the settings' default environment
   */
  readonly environment?: string;
  /**
   * Raw LGSR files (shell globs, relative to the repository root) the ingest stage reads.
   * @default - none: ingest reads the environment's landing location (`landing` in `.retail-mlops.json`)
   */
  readonly dataFiles?: readonly string[];
  /**
   * The share of rows (0–1) data validation may quarantine: above it the ingest stage fails, prints the
   * reasons and publishes nothing (`--max-quarantine-rate`).
   * @default - the environment's setting (0.01 unless set)
   */
  readonly maxQuarantineRate?: number;
  /**
   * Commands the data stage runs before it ingests, in the same job (so what they land is there for the ingest):
   * e.g. landing data in the landing location.
   * @default []
   */
  readonly dataSetup?: readonly string[];
  /**
   * Commands the test stage runs before `npm test`: the one set-up script README uses, which installs
   * what the tests need.
   * @default []
   */
  readonly testSetup?: readonly string[];
  /** The algorithms the train stage trains (the champion is the best of them). @default - all the backend offers */
  readonly algorithms?: readonly string[];
  /** The lake: a folder, or a storage URI for cloud providers (the environment's). @default '.lake' */
  readonly lake?: string;
  /** The model registry: a folder, or a storage URI for cloud providers (the environment's). @default '.registry' */
  readonly registry?: string;
  /** Where reports and metrics are written. @default 'out' */
  readonly outputDirectory?: string;
  /** The container image repository the build stage pushes to (ECR / ACR URI for cloud providers). @default 'retail-mlops' */
  readonly imageRepository?: string;
  /** Node.js major version on CI machines. @default '20' */
  readonly nodeVersion?: string;
  /** @default 120 */
  readonly timeoutMinutes?: number;
  /** IAM role assumed through OIDC; required when provider is 'aws'. @default - none */
  readonly awsRoleArn?: string;
  /** @default 'eu-west-1' */
  readonly awsRegion?: string;
  /** Azure Pipelines service connection (workload identity federation) used for cloud steps. @default 'retail-mlops' */
  readonly azureServiceConnection?: string;
  /** Entra ID tenant; required when provider is 'azure'. @default - none */
  readonly azureTenantId?: string;
  /** Client id of the federated app/managed identity; required when provider is 'azure'. @default - none */
  readonly azureClientId?: string;
  /** Required when provider is 'azure'. @default - none */
  readonly azureSubscriptionId?: string;
  /** Jenkins credential id of the OIDC id token (file) used for role assumption. @default 'retail-mlops-oidc-token' */
  readonly jenkinsOidcCredentialId?: string;
  /** Jenkins agent label. @default - `agent any` */
  readonly jenkinsAgentLabel?: string;
  /** Name of the Jenkins NodeJS tool installation. @default - none (node must be on the agent's PATH) */
  readonly jenkinsNodeJsInstallation?: string;
  /** Extra stages, inserted after a named stage or appended. @default [] */
  readonly additionalStages?: readonly AdditionalStage[];
  /**
   * Where the repository lives, so promotions open their pull requests there: `github` (token
   * `GITHUB_TOKEN`) or `azure-repos` (the job's `System.AccessToken` as `SYSTEM_ACCESSTOKEN`).
   * @default 'azure-repos' for provider azure, else 'github'
   */
  readonly gitHost?: 'github' | 'azure-repos';
  /** Jenkins: id of the secret-text credential holding the git host token promotions push with. @default 'retail-mlops-git-token' */
  readonly jenkinsGitTokenCredentialId?: string;
}

/** Where the build-image stage leaves the pushed image's digest (`sha256:…`) for the promote stages. */
export const IMAGE_DIGEST_FILE = 'out/image/digest';

/** The ids of the standard stages, in order (promote stages follow, one per environment: `promote-<env>`). */
export const standardStageIds = [
  'install',
  'lint-test',
  'ingest',
  'train',
  'evaluate',
  'gate',
  'register',
  'build-image',
  'synth-manifests',
] as const;

const identifierPattern = /^[a-z][a-z0-9-]*$/;
const environmentVariablePattern = /^[A-Za-z_][A-Za-z0-9_]*$/;
const branchPattern = /^[A-Za-z0-9._/-]+$/;
const awsRoleArnPattern = /^arn:aws[a-z-]*:iam::\d{12}:role\/[\w+=,.@/-]+$/;
const awsRegionPattern = /^[a-z]{2}(-[a-z]+)+-\d$/;
const uuidPattern = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** True for `s3://…`, `abfss://…`, `https://…`: storage that is not a folder on the CI machine. */
function isRemoteLocation(location: string): boolean {
  return /^[a-z][a-z0-9+.-]*:\/\//i.test(location);
}

/** A value safe to put inside a single-quoted shell word. */
export function shellQuote(value: string): string {
  return /^[A-Za-z0-9_./:@%+=,*-]+$/.test(value) ? value : `'${value.replace(/'/g, '\'\\\'\'')}'`;
}

/**
 * Builds the standard pipeline. Throws `InvalidOptionsError` listing every problem in `options`.
 */
export function createPipelineModel(options: PipelineOptions = {}): PipelineModel {
  const name = options.name ?? 'retail-mlops';
  const provider = options.provider ?? 'local';
  const mainBranch = options.mainBranch ?? 'main';
  const environments = options.environments ?? ['staging', 'production'];
  const approvalEnvironment = options.approvalEnvironment ?? environments[environments.length - 1];
  const approvalGroup = options.approvalGroup ?? 'release-approvers';
  const cli = options.cli ?? 'npx retail-mlops';
  const dataFiles = options.dataFiles ?? [];
  const testSetup = options.testSetup ?? [];
  const dataSetup = options.dataSetup ?? [];
  const algorithms = options.algorithms ?? [];
  const lake = options.lake ?? '.lake';
  const registry = options.registry ?? '.registry';
  const outputDirectory = options.outputDirectory ?? 'out';
  const imageRepository = options.imageRepository ?? 'retail-mlops';
  const nodeVersion = options.nodeVersion ?? '20';
  const timeoutMinutes = options.timeoutMinutes ?? 120;
  const awsRegion = options.awsRegion ?? 'eu-west-1';
  const azureServiceConnection = options.azureServiceConnection ?? 'retail-mlops';
  const jenkinsOidcCredentialId = options.jenkinsOidcCredentialId ?? 'retail-mlops-oidc-token';
  const additionalStages = options.additionalStages ?? [];
  const gitHost = options.gitHost ?? (provider === 'azure' ? 'azure-repos' : 'github');
  const jenkinsGitTokenCredentialId = options.jenkinsGitTokenCredentialId ?? 'retail-mlops-git-token';

  const problems = new ProblemCollector('pipeline options');
  problems.check(identifierPattern.test(name), `name must match ${identifierPattern}, got '${name}'`);
  problems.check(['local', 'aws', 'azure'].includes(provider), `provider must be one of local, aws, azure, got '${String(provider)}'`);
  problems.check(branchPattern.test(mainBranch), `mainBranch '${mainBranch}' is not a plain branch name`);
  problems.check(environments.length > 0, 'environments must name at least one environment');
  for (const environment of environments) {
    problems.check(identifierPattern.test(environment), `environment '${environment}' must match ${identifierPattern}`);
  }
  problems.check(new Set(environments).size === environments.length, `environments must be unique, got ${environments.join(', ')}`);
  problems.check(
    approvalEnvironment === undefined || environments.includes(approvalEnvironment),
    `approvalEnvironment '${approvalEnvironment}' is not one of the environments (${environments.join(', ')})`,
  );
  problems.check(/^[\w .@\\-]+$/.test(approvalGroup), `approvalGroup '${approvalGroup}' may hold only letters, digits, spaces and _ . @ \\ -`);
  problems.check(cli.trim().length > 0, 'cli must not be empty');
  problems.check(options.dataFiles === undefined || dataFiles.length > 0, 'dataFiles must name at least one file or glob (leave it out to read the landing location)');
  problems.check(options.environment === undefined || /^[a-z][a-z0-9-]{0,31}$/.test(options.environment), `environment '${options.environment}' must be lowercase letters, digits and '-'`);
  problems.check(
    options.maxQuarantineRate === undefined || (Number.isFinite(options.maxQuarantineRate) && options.maxQuarantineRate >= 0 && options.maxQuarantineRate <= 1),
    `maxQuarantineRate must be a number from 0 to 1, got ${options.maxQuarantineRate}`,
  );
  problems.check(options.algorithms === undefined || (algorithms.length > 0 && algorithms.every((algorithm) => /^[a-z][a-z0-9-]*$/.test(algorithm))), `algorithms must name at least one algorithm (lowercase), got ${JSON.stringify(options.algorithms)}`);
  for (const command of testSetup) problems.check(command.trim().length > 0 && !command.includes('\n'), 'testSetup commands must be one non-empty line each');
  for (const command of dataSetup) problems.check(command.trim().length > 0 && !command.includes('\n'), 'dataSetup commands must be one non-empty line each');
  for (const location of [lake, registry, outputDirectory]) {
    problems.check(location.trim().length > 0 && !/\s/.test(location), `'${location}': lake, registry and outputDirectory must be non-empty and hold no spaces`);
  }
  problems.check(!isRemoteLocation(outputDirectory), `outputDirectory must be a folder, got '${outputDirectory}'`);
  problems.check(provider !== 'local' || (!isRemoteLocation(lake) && !isRemoteLocation(registry)), 'provider local needs lake and registry to be folders');
  problems.check(/^[a-z0-9][a-z0-9._/:-]*$/.test(imageRepository), `imageRepository '${imageRepository}' is not a valid image repository`);
  problems.check(/^\d+$/.test(nodeVersion), `nodeVersion must be a major version such as '20', got '${nodeVersion}'`);
  problems.check(Number.isInteger(timeoutMinutes) && timeoutMinutes > 0, `timeoutMinutes must be a positive integer, got ${timeoutMinutes}`);
  if (provider === 'aws') {
    problems.check(options.awsRoleArn !== undefined, 'provider aws needs awsRoleArn (the IAM role assumed through OIDC)');
    problems.check(options.awsRoleArn === undefined || awsRoleArnPattern.test(options.awsRoleArn), `awsRoleArn '${options.awsRoleArn}' is not an IAM role ARN`);
    problems.check(awsRegionPattern.test(awsRegion), `awsRegion '${awsRegion}' is not an AWS region`);
  }
  if (provider === 'azure') {
    for (const [key, value] of [['azureTenantId', options.azureTenantId], ['azureClientId', options.azureClientId], ['azureSubscriptionId', options.azureSubscriptionId]] as const) {
      problems.check(value !== undefined, `provider azure needs ${key}`);
      problems.check(value === undefined || uuidPattern.test(value), `${key} '${value}' is not a GUID`);
    }
  }
  problems.check(azureServiceConnection.trim().length > 0, 'azureServiceConnection must not be empty');
  problems.check(/^[\w.-]+$/.test(jenkinsOidcCredentialId), `jenkinsOidcCredentialId '${jenkinsOidcCredentialId}' may hold only letters, digits and _ . -`);
  problems.check(['github', 'azure-repos'].includes(gitHost), `gitHost must be github or azure-repos, got '${String(gitHost)}'`);
  problems.check(/^[\w.-]+$/.test(jenkinsGitTokenCredentialId), `jenkinsGitTokenCredentialId '${jenkinsGitTokenCredentialId}' may hold only letters, digits and _ . -`);

  const cloudCredentials: StageCredentials =
    provider === 'aws'
      ? { cloud: 'aws', roleArn: options.awsRoleArn ?? '', region: awsRegion, jenkinsTokenCredentialId: jenkinsOidcCredentialId, serviceConnection: azureServiceConnection }
      : provider === 'azure'
        ? {
          cloud: 'azure',
          serviceConnection: azureServiceConnection,
          tenantId: options.azureTenantId ?? '',
          clientId: options.azureClientId ?? '',
          subscriptionId: options.azureSubscriptionId ?? '',
          jenkinsTokenCredentialId: jenkinsOidcCredentialId,
        }
        : { cloud: 'none' };
  const none: StageCredentials = { cloud: 'none' };
  const everyBranch: StageCondition = { branches: [] };
  const mainOnly: StageCondition = { branches: [mainBranch] };
  const npmCache: StageCache = { kind: 'npm', name: 'npm', path: '~/.npm' };
  // A folder lake/registry is handed from stage to stage; cloud storage needs no hand-over.
  const lakeCache: StageCache[] = isRemoteLocation(lake) ? [] : [{ kind: 'directory', name: 'lake', path: lake }];
  const registryCache: StageCache[] = isRemoteLocation(registry) ? [] : [{ kind: 'directory', name: 'registry', path: registry }];
  const evaluationDirectory = `${outputDirectory}/evaluation`;
  // the gate reads the metrics the evaluate stage wrote; CI systems with a fresh machine per stage need them handed over
  const evaluationCache: StageCache = { kind: 'directory', name: 'evaluation', path: evaluationDirectory };
  // every CLI call names the environment, so its provider options and landing location come from the settings
  const environmentFlag = options.environment === undefined ? '' : ` --environment ${options.environment}`;
  const quarantineFlag = options.maxQuarantineRate === undefined ? '' : ` --max-quarantine-rate ${options.maxQuarantineRate}`;
  const imageTag = `${imageRepository}:$(git rev-parse --short=12 HEAD)`;
  // the image is built once per commit: a rerun (or a second pipeline of the same commit) reuses the pushed one
  const imageDirectory = IMAGE_DIGEST_FILE.slice(0, IMAGE_DIGEST_FILE.lastIndexOf('/'));
  const pushesImage = provider !== 'local';
  const imageCommands = pushesImage
    ? [
      `tag="${imageTag}"; if docker manifest inspect "$tag" > /dev/null 2>&1; then docker pull --quiet "$tag"; else docker build --tag "$tag" . && docker push "$tag"; fi`,
      // the registry's digest of what was pushed: the promote stages pin it (repository@sha256:…)
      `mkdir -p ${imageDirectory} && docker inspect --format '{{index .RepoDigests 0}}' "${imageTag}" | cut -d@ -f2 > ${IMAGE_DIGEST_FILE} && grep -qE '^sha256:[a-f0-9]{64}$' ${IMAGE_DIGEST_FILE}`,
    ]
    : [`docker build --tag "${imageTag}" .`];
  const imageCache: StageCache[] = pushesImage ? [{ kind: 'directory', name: 'image', path: imageDirectory }] : [];
  const gitTokenSecret: StageSecret =
    gitHost === 'github'
      ? { variable: 'GITHUB_TOKEN', jenkinsCredentialId: jenkinsGitTokenCredentialId, azurePipelinesValue: '$(GITHUB_TOKEN)', purpose: 'push promote/<environment> and open its pull request on GitHub' }
      : { variable: 'SYSTEM_ACCESSTOKEN', jenkinsCredentialId: jenkinsGitTokenCredentialId, azurePipelinesValue: '$(System.AccessToken)', purpose: 'push promote/<environment> and open its pull request on Azure Repos' };
  const imageLogin =
    provider === 'aws'
      ? [`aws ecr get-login-password --region ${awsRegion} | docker login --username AWS --password-stdin ${imageRepository.split('/')[0]}`]
      : provider === 'azure'
        ? [`az acr login --name ${imageRepository.split('.')[0]}`]
        : [];

  const stage = (fields: Omit<PipelineStage, 'environment' | 'requiredTools' | 'needsDependencies'> & Partial<PipelineStage>): PipelineStage => ({
    environment: {},
    requiredTools: [],
    needsDependencies: true,
    ...fields,
  });

  const stages: PipelineStage[] = [
    stage({ id: 'install', name: 'Install', commands: ['npm ci'], condition: everyBranch, caches: [npmCache], artifacts: [], credentials: none, needsDependencies: false }),
    stage({ id: 'lint-test', name: 'Lint and test', commands: [...testSetup, 'npm test'], condition: everyBranch, caches: [npmCache], artifacts: [], credentials: none }),
    stage({
      id: 'ingest',
      // the data contract (LGSR schema, codes, quarantine rules) is checked on the data itself: above the
      // quarantine threshold the stage fails, prints the reasons and publishes nothing
      name: 'Validate and ingest data',
      commands: [...dataSetup, `${cli} ingest${dataFiles.map((file) => ` ${file}`).join('')}${environmentFlag} --lake ${shellQuote(lake)}${quarantineFlag}`],
      condition: everyBranch,
      caches: [npmCache, ...lakeCache],
      artifacts: [],
      credentials: cloudCredentials,
    }),
    stage({
      id: 'train',
      name: 'Train',
      commands: [`${cli} train${environmentFlag} --lake ${shellQuote(lake)} --registry ${shellQuote(registry)} --algorithm ${algorithms.length > 0 ? algorithms.join(',') : 'all'} --alias challenger`],
      condition: everyBranch,
      caches: [npmCache, ...lakeCache, ...registryCache],
      artifacts: [],
      credentials: cloudCredentials,
    }),
    stage({
      id: 'evaluate',
      name: 'Evaluate',
      commands: [
        `mkdir -p ${evaluationDirectory}`,
        `${cli} evaluate${environmentFlag} --registry ${shellQuote(registry)} --model challenger --data ${shellQuote(lake)} --report ${evaluationDirectory}/report.html --json > ${evaluationDirectory}/metrics.json`,
      ],
      condition: everyBranch,
      caches: [npmCache, ...lakeCache, ...registryCache, evaluationCache],
      artifacts: [
        { name: 'evaluation-report', path: `${evaluationDirectory}/report.html`, isFolder: false, kind: 'report' },
        { name: 'evaluation-metrics', path: `${evaluationDirectory}/metrics.json`, isFolder: false, kind: 'metrics' },
      ],
      credentials: cloudCredentials,
    }),
    stage({
      id: 'gate',
      name: 'Gate',
      commands: [`${cli} gate${environmentFlag} --registry ${shellQuote(registry)} --model challenger --lake ${shellQuote(lake)}`],
      condition: everyBranch,
      caches: [npmCache, ...registryCache, evaluationCache],
      artifacts: [],
      credentials: cloudCredentials,
    }),
    stage({
      id: 'register',
      name: 'Register',
      commands: [
        `${cli} models alias candidate challenger${environmentFlag} --registry ${shellQuote(registry)} --reason 'passed the gate on ${mainBranch}'`,
      ],
      condition: mainOnly,
      caches: [npmCache, ...registryCache],
      artifacts: isRemoteLocation(registry) ? [] : [{ name: 'model', path: registry, isFolder: true, kind: 'model' }],
      credentials: cloudCredentials,
    }),
    stage({
      id: 'build-image',
      name: 'Build image',
      commands: [...imageLogin, ...imageCommands],
      condition: mainOnly,
      caches: imageCache,
      artifacts: pushesImage ? [{ name: 'image-digest', path: IMAGE_DIGEST_FILE, isFolder: false, kind: 'manifests' }] : [],
      credentials: cloudCredentials,
      requiredTools: ['docker', ...(provider === 'aws' ? ['aws'] : provider === 'azure' ? ['az'] : [])],
      needsDependencies: false,
    }),
    stage({
      id: 'synth-manifests',
      name: 'Synth manifests',
      commands: ['npm run synth:manifests'],
      condition: everyBranch,
      caches: [npmCache],
      artifacts: [{ name: 'manifests', path: 'manifests/dist', isFolder: true, kind: 'manifests' }],
      credentials: none,
    }),
    ...environments.map((environment) =>
      stage({
        id: `promote-${environment}`,
        name: `Promote to ${environment}`,
        // pushes promote/<environment> and opens (or updates) its pull request, pinning the image built above
        commands: [`${cli} promote --model candidate --env ${environment}${pushesImage ? ` --image-digest "$(cat ${IMAGE_DIGEST_FILE})"` : ''}`],
        condition:
          environment === approvalEnvironment
            ? { branches: [mainBranch], approval: { environment, group: approvalGroup, message: `Promote the candidate model to ${environment}?` } }
            : mainOnly,
        caches: [npmCache, ...registryCache, ...imageCache],
        artifacts: [],
        credentials: cloudCredentials,
        environment: { RETAIL_MLOPS_ENVIRONMENT: environment },
        secrets: [gitTokenSecret],
      }),
    ),
  ];

  for (const addition of additionalStages) {
    problems.check(identifierPattern.test(addition.id), `additional stage id '${addition.id}' must match ${identifierPattern}`);
    problems.check(addition.name.trim().length > 0 && !addition.name.includes('\n'), `additional stage '${addition.id}' needs a one-line name`);
    problems.check(addition.commands.length > 0, `additional stage '${addition.id}' needs at least one command`);
    const created = stage({
      id: addition.id,
      name: addition.name,
      commands: [...addition.commands],
      condition: { branches: [...(addition.branches ?? [])] },
      caches: [npmCache],
      artifacts: [...(addition.artifacts ?? [])],
      credentials: addition.needsCloud ? cloudCredentials : none,
      environment: { ...addition.environment },
      requiredTools: [...(addition.requiredTools ?? [])],
    });
    if (addition.after === undefined) {
      stages.push(created);
    } else {
      const index = stages.findIndex((existing) => existing.id === addition.after);
      problems.check(index >= 0, `additional stage '${addition.id}' goes after '${addition.after}', which is not a stage`);
      if (index >= 0) stages.splice(index + 1, 0, created);
    }
  }

  const environment: Record<string, string> = {
    RETAIL_MLOPS_PROVIDER: provider,
    RETAIL_MLOPS_REGISTRY: registry,
  };
  if (provider === 'aws') environment.AWS_REGION = awsRegion;

  const model: PipelineModel = {
    name,
    provider,
    mainBranch,
    nodeVersion,
    timeoutMinutes,
    agentSetup: ['npm ci'],
    environment,
    jenkins: { agentLabel: options.jenkinsAgentLabel, nodeJsInstallation: options.jenkinsNodeJsInstallation },
    stages,
  };
  for (const problem of modelProblems(model)) problems.check(false, problem);
  problems.throwIfAny();
  return model;
}

/** Structural problems of a model (also for models built by hand): unique ids, names, artifacts; valid names. */
export function modelProblems(model: PipelineModel): string[] {
  const problems: string[] = [];
  const seen = { ids: new Set<string>(), names: new Set<string>(), artifacts: new Set<string>() };
  if (model.stages.length === 0) problems.push('a pipeline needs at least one stage');
  for (const stage of model.stages) {
    if (!identifierPattern.test(stage.id)) problems.push(`stage id '${stage.id}' must match ${identifierPattern}`);
    if (seen.ids.has(stage.id)) problems.push(`stage id '${stage.id}' is used twice`);
    if (seen.names.has(stage.name.toLowerCase())) problems.push(`stage name '${stage.name}' is used twice (names are compared case-insensitively, as Travis does)`);
    seen.ids.add(stage.id);
    seen.names.add(stage.name.toLowerCase());
    if (stage.commands.some((command) => command.trim().length === 0 || command.includes('\n'))) {
      problems.push(`stage '${stage.id}' has an empty or multi-line command`);
    }
    for (const branch of stage.condition.branches) {
      if (!branchPattern.test(branch)) problems.push(`stage '${stage.id}': branch '${branch}' is not a plain branch name`);
    }
    for (const artifact of stage.artifacts) {
      if (!identifierPattern.test(artifact.name)) problems.push(`artifact '${artifact.name}' must match ${identifierPattern}`);
      if (seen.artifacts.has(artifact.name)) problems.push(`artifact name '${artifact.name}' is used twice`);
      seen.artifacts.add(artifact.name);
    }
    for (const key of Object.keys(stage.environment)) {
      if (!environmentVariablePattern.test(key)) problems.push(`stage '${stage.id}': '${key}' is not a valid environment variable name`);
    }
    for (const secret of stage.secrets ?? []) {
      if (!environmentVariablePattern.test(secret.variable)) problems.push(`stage '${stage.id}': secret '${secret.variable}' is not a valid environment variable name`);
      if (secret.variable in stage.environment) problems.push(`stage '${stage.id}': '${secret.variable}' is both a secret and a plain variable`);
    }
  }
  for (const key of Object.keys(model.environment)) {
    if (!environmentVariablePattern.test(key)) problems.push(`'${key}' is not a valid environment variable name`);
  }
  return problems;
}

/** Whether a stage's branch filter lets it run on `branch`. */
export function stageRunsOnBranch(stage: PipelineStage, branch: string | undefined): boolean {
  if (stage.condition.branches.length === 0) return true;
  return branch !== undefined && stage.condition.branches.includes(branch);
}

/** Every secret some stage reads, once per variable (for the renderers' notes). */
export function uniqueSecrets(model: PipelineModel): StageSecret[] {
  const byVariable = new Map<string, StageSecret>();
  for (const stage of model.stages) for (const secret of stage.secrets ?? []) byVariable.set(secret.variable, secret);
  return [...byVariable.values()];
}

/** The stages that need a manual approval. */
export function approvalStages(model: PipelineModel): PipelineStage[] {
  return model.stages.filter((stage) => stage.condition.approval !== undefined);
}
