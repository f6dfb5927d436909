/**
 * Renders the pipeline model as `azure-pipelines.yml`: stages → jobs → steps, one stage per model stage.
 */
import type { IConstruct } from 'constructs';
import { Component } from 'projen';
import { stringify } from 'yaml';
import { uniqueSecrets, type PipelineModel, type PipelineStage, type StageCache } from './model';
import type { RenderedContent } from './rendered-file';
import { RenderedFile } from './rendered-file';

export interface AzurePipelineOptions {
  readonly model: PipelineModel;
  /** @default 'azure-pipelines.yml' */
  readonly filePath?: string;
  /** @default 'ubuntu-latest' */
  readonly vmImage?: string;
}

/** The `azure-pipelines.yml` of a project, rendered from the pipeline model. */
export class AzurePipeline extends Component {
  readonly file: RenderedFile;

  constructor(scope: IConstruct, options: AzurePipelineOptions) {
    super(scope, 'AzurePipeline');
    const vmImage = options.vmImage ?? 'ubuntu-latest';
    this.file = new RenderedFile(this, options.filePath ?? 'azure-pipelines.yml', () => renderAzurePipeline(options.model, vmImage), { commentPrefix: '#' });
  }
}

/** Displayed names of steps that prepare the machine; every other script step is one of the stage's commands. */
export const azureSetupStepPrefix = 'Set up: ';

type Step = Record<string, unknown>;

/** Azure identifiers allow letters, digits and underscores. */
export function azureIdentifier(stageId: string): string {
  return stageId.replace(/-/g, '_');
}

/** The stage's condition expression: the previous stages succeeded and the branch matches. */
export function azureCondition(stage: PipelineStage): string | undefined {
  const branches = stage.condition.branches;
  if (branches.length === 0) return undefined;
  const comparisons = branches.map((branch) => `eq(variables['Build.SourceBranch'], 'refs/heads/${branch}')`);
  return `and(succeeded(), ${comparisons.length === 1 ? comparisons[0] : `or(${comparisons.join(', ')})`})`;
}

const awsTokenFile = '$(Agent.TempDirectory)/aws-web-identity-token';

function cacheStep(cache: StageCache): Step {
  if (cache.kind === 'npm') {
    return {
      task: 'Cache@2',
      displayName: `${azureSetupStepPrefix}npm cache`,
      inputs: { key: 'npm | "$(Agent.OS)" | package-lock.json', restoreKeys: 'npm | "$(Agent.OS)"', path: '$(npm_config_cache)' },
    };
  }
  // A new key per stage: each stage saves the folder as it left it; the next restores the newest entry of this commit.
  return {
    task: 'Cache@2',
    displayName: `${azureSetupStepPrefix}${cache.name} from the previous stage`,
    inputs: { key: `${cache.name} | "$(Build.SourceVersion)" | "$(System.StageName)"`, restoreKeys: `${cache.name} | "$(Build.SourceVersion)"`, path: cache.path },
  };
}

function credentialSetupSteps(stage: PipelineStage): Step[] {
  if (stage.credentials.cloud !== 'aws') return [];
  // The service connection's federated token (workload identity federation) is also what AWS trusts:
  // an IAM OIDC provider for the Azure DevOps issuer lets the SDK assume AWS_ROLE_ARN with it.
  return [
    {
      task: 'AzureCLI@2',
      displayName: `${azureSetupStepPrefix}AWS web identity token`,
      inputs: {
        azureSubscription: stage.credentials.serviceConnection,
        scriptType: 'bash',
        scriptLocation: 'inlineScript',
        addSpnToEnvironment: true,
        inlineScript: [`printf '%s' "$idToken" > "${awsTokenFile}"`, `echo "##vso[task.setvariable variable=AWS_WEB_IDENTITY_TOKEN_FILE]${awsTokenFile}"`].join('\n'),
      },
    },
  ];
}

function commandStep(stage: PipelineStage, command: string): Step {
  // secret variables reach a step only when mapped into its env
  const secrets = stage.secrets ?? [];
  const env = secrets.length > 0 ? { env: Object.fromEntries(secrets.map((secret) => [secret.variable, secret.azurePipelinesValue])) } : {};
  if (stage.credentials.cloud === 'azure') {
    return {
      task: 'AzureCLI@2',
      displayName: command,
      inputs: { azureSubscription: stage.credentials.serviceConnection, scriptType: 'bash', scriptLocation: 'inlineScript', inlineScript: command },
      ...env,
    };
  }
  return { script: command, displayName: command, ...env };
}

function steps(model: PipelineModel, stage: PipelineStage): Step[] {
  return [
    { checkout: 'self' },
    { task: 'NodeTool@0', displayName: `${azureSetupStepPrefix}Node.js ${model.nodeVersion}`, inputs: { versionSpec: `${model.nodeVersion}.x` } },
    ...stage.caches.map((cache) => cacheStep(cache)),
    ...(stage.needsDependencies ? model.agentSetup.map((command) => ({ script: command, displayName: `${azureSetupStepPrefix}${command}` })) : []),
    ...credentialSetupSteps(stage),
    ...stage.commands.map((command) => commandStep(stage, command)),
    ...stage.artifacts.map((artifact) => ({
      task: 'PublishPipelineArtifact@1',
      displayName: `Publish ${artifact.name}`,
      inputs: { targetPath: artifact.path, artifact: artifact.name, publishLocation: 'pipeline' },
    })),
  ];
}

function jobVariables(stage: PipelineStage): Record<string, string> {
  const credentials = stage.credentials;
  const identity: Record<string, string> =
    credentials.cloud === 'aws' ? { AWS_ROLE_ARN: credentials.roleArn, AWS_ROLE_SESSION_NAME: 'retail-mlops-$(Build.BuildId)', AWS_REGION: credentials.region } : {};
  return { ...identity, ...stage.environment };
}

function stageDefinition(model: PipelineModel, stage: PipelineStage): Record<string, unknown> {
  const identifier = azureIdentifier(stage.id);
  const condition = azureCondition(stage);
  const variables = jobVariables(stage);
  const common = {
    displayName: stage.name,
    // Microsoft's schema types every scalar as a string
    timeoutInMinutes: String(model.timeoutMinutes),
    ...(Object.keys(variables).length > 0 ? { variables } : {}),
  };
  const approval = stage.condition.approval;
  const job = approval
    ? {
      // the approval is a check configured on the environment in Azure DevOps, not in this file
      deployment: identifier,
      environment: approval.environment,
      ...common,
      strategy: { runOnce: { deploy: { steps: steps(model, stage) } } },
    }
    : { job: identifier, ...common, steps: steps(model, stage) };
  return { stage: identifier, displayName: stage.name, ...(condition ? { condition } : {}), jobs: [job] };
}

function notes(model: PipelineModel): string[] {
  const lines = [
    `The ${model.name} pipeline: one stage per pipeline stage, each on a fresh agent (stages run in order).`,
    'Lake, registry and evaluation folders pass from stage to stage through Cache@2 entries keyed by commit and stage.',
  ];
  for (const stage of model.stages.filter((candidate) => candidate.condition.approval)) {
    const approval = stage.condition.approval;
    lines.push(
      `'${stage.name}' is a deployment job on the environment '${approval?.environment}'. The manual approval is`,
      `configured on that environment, not here: Pipelines > Environments > ${approval?.environment} > Approvals and checks >`,
      `Approvals, approvers: '${approval?.group}'.`,
    );
  }
  for (const secret of uniqueSecrets(model)) {
    lines.push(
      secret.azurePipelinesValue === '$(System.AccessToken)'
        ? `${secret.variable} is the job's own token (${secret.purpose}): give the project's build service Contribute and Create branch on the repository, and Contribute to pull requests.`
        : `${secret.variable} comes from the secret pipeline variable ${secret.azurePipelinesValue.slice(2, -1)} (${secret.purpose}).`,
    );
  }
  if (model.stages.some((stage) => stage.credentials.cloud !== 'none')) {
    lines.push(
      'Cloud steps authenticate through a workload-identity-federation service connection (AzureCLI@2): no stored',
      'secrets. For AWS, an IAM OIDC identity provider trusts the connection\'s federated token, assumed as AWS_ROLE_ARN.',
    );
  }
  return lines;
}

/** The Azure Pipelines definition as an object (what the YAML holds). */
export function azurePipelineDefinition(model: PipelineModel, vmImage = 'ubuntu-latest'): Record<string, unknown> {
  return {
    trigger: { branches: { include: ['*'] } },
    pr: { branches: { include: ['*'] } },
    pool: { vmImage },
    variables: { npm_config_cache: '$(Pipeline.Workspace)/.npm', ...model.environment },
    stages: model.stages.map((stage) => stageDefinition(model, stage)),
  };
}

/** The `azure-pipelines.yml` text (without the projen marker). */
export function renderAzurePipeline(model: PipelineModel, vmImage = 'ubuntu-latest'): RenderedContent {
  return { notes: notes(model), body: stringify(azurePipelineDefinition(model, vmImage), { indent: 2, lineWidth: 0 }) };
}
