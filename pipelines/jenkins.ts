/**
 * Renders the pipeline model as a declarative Jenkinsfile (one projen component, one file).
 */
import type { IConstruct } from 'constructs';
import { Component } from 'projen';
import { uniqueSecrets, type PipelineModel, type PipelineStage } from './model';
import type { RenderedContent } from './rendered-file';
import { RenderedFile } from './rendered-file';

export interface JenkinsPipelineOptions {
  readonly model: PipelineModel;
  /** @default 'Jenkinsfile' */
  readonly filePath?: string;
}

/** The `Jenkinsfile` of a project, rendered from the pipeline model. */
export class JenkinsPipeline extends Component {
  readonly file: RenderedFile;

  constructor(scope: IConstruct, options: JenkinsPipelineOptions) {
    super(scope, 'JenkinsPipeline');
    this.file = new RenderedFile(this, options.filePath ?? 'Jenkinsfile', () => renderJenkinsfile(options.model), { commentPrefix: '//' });
  }
}

/** A Groovy single-quoted string literal (no interpolation: the shell sees `$` as written). */
export function groovyString(value: string): string {
  return `'${value.replace(/\\/g, '\\\\').replace(/'/g, '\\\'')}'`;
}

const indentUnit = '  ';

/** Lines of a Groovy block: `head {`, the body indented, `}`. */
function block(head: string, body: readonly string[]): string[] {
  return [`${head} {`, ...body.map((line) => (line.length === 0 ? line : indentUnit + line)), '}'];
}

function environmentBlock(variables: Readonly<Record<string, string>>): string[] {
  const entries = Object.entries(variables);
  return entries.length === 0 ? [] : block('environment', entries.map(([key, value]) => `${key} = ${groovyString(value)}`));
}

function whenBlock(stage: PipelineStage): string[] {
  const branches = stage.condition.branches;
  if (branches.length === 0) return [];
  const branchConditions = branches.length === 1 ? [`branch ${groovyString(branches[0])}`] : block('anyOf', branches.map((branch) => `branch ${groovyString(branch)}`));
  // evaluate the branch before asking anyone to approve
  return block('when', [...(stage.condition.approval ? ['beforeInput true'] : []), ...branchConditions]);
}

function inputBlock(stage: PipelineStage): string[] {
  const approval = stage.condition.approval;
  if (!approval) return [];
  return block('input', [`message ${groovyString(approval.message)}`, `ok ${groovyString('Approve')}`, `submitter ${groovyString(approval.group)}`]);
}

/** The stage's own commands, one `sh` step each. */
function commandSteps(stage: PipelineStage): string[] {
  return stage.commands.map((command) => `sh ${groovyString(command)}`);
}

/** Wraps steps in the stage's cloud identity: an OIDC id token (a file credential), never stored keys. */
function withCloudIdentity(stage: PipelineStage, steps: string[]): string[] {
  const credentials = stage.credentials;
  const sessionName = '"AWS_ROLE_SESSION_NAME=retail-mlops-${env.BUILD_NUMBER}"';
  switch (credentials.cloud) {
    case 'none':
      return steps;
    case 'aws':
      // the AWS SDKs and CLI assume AWS_ROLE_ARN with the web-identity token on their own
      return block(`withCredentials([file(credentialsId: ${groovyString(credentials.jenkinsTokenCredentialId)}, variable: 'AWS_WEB_IDENTITY_TOKEN_FILE')])`,
        block(`withEnv([${groovyString(`AWS_ROLE_ARN=${credentials.roleArn}`)}, ${sessionName}, ${groovyString(`AWS_REGION=${credentials.region}`)}])`, steps));
    case 'azure': {
      const login = stage.requiredTools.includes('az')
        ? [`sh(label: 'credentials: az login', script: ${groovyString('az login --service-principal --username "$AZURE_CLIENT_ID" --tenant "$AZURE_TENANT_ID" --federated-token "$(cat "$AZURE_FEDERATED_TOKEN_FILE")" --output none')})`]
        : [];
      // @azure/identity's WorkloadIdentityCredential reads these three variables
      return block(`withCredentials([file(credentialsId: ${groovyString(credentials.jenkinsTokenCredentialId)}, variable: 'AZURE_FEDERATED_TOKEN_FILE')])`,
        block(`withEnv([${groovyString(`AZURE_CLIENT_ID=${credentials.clientId}`)}, ${groovyString(`AZURE_TENANT_ID=${credentials.tenantId}`)}, ${groovyString(`AZURE_SUBSCRIPTION_ID=${credentials.subscriptionId}`)}])`, [...login, ...steps]));
    }
  }
}

/** Binds the stage's secrets (secret-text credentials) to their variables around the steps. */
function withSecrets(stage: PipelineStage, steps: string[]): string[] {
  const secrets = stage.secrets ?? [];
  if (secrets.length === 0) return steps;
  const bindings = secrets.map((secret) => `string(credentialsId: ${groovyString(secret.jenkinsCredentialId)}, variable: ${groovyString(secret.variable)})`);
  return block(`withCredentials([${bindings.join(', ')}])`, steps);
}

function archiveSteps(stage: PipelineStage): string[] {
  if (stage.artifacts.length === 0) return [];
  const patterns = stage.artifacts.map((artifact) => (artifact.isFolder ? `${artifact.path}/**` : artifact.path)).join(', ');
  return [`archiveArtifacts artifacts: ${groovyString(patterns)}, fingerprint: true`];
}

function stageBlock(stage: PipelineStage): string[] {
  return block(`stage(${groovyString(stage.name)})`, [
    ...whenBlock(stage),
    ...inputBlock(stage),
    ...environmentBlock(stage.environment),
    ...block('steps', [...withSecrets(stage, withCloudIdentity(stage, commandSteps(stage))), ...archiveSteps(stage)]),
  ]);
}

function notes(model: PipelineModel): string[] {
  const lines = [
    `The ${model.name} pipeline, declarative, for a multibranch pipeline job (\`when { branch … }\` needs one).`,
    'One agent runs every stage, so the workspace carries the lake, the registry and node_modules from stage',
    'to stage, and npm\'s cache stays on the agent between builds.',
  ];
  const approvals = model.stages.filter((stage) => stage.condition.approval);
  for (const stage of approvals) {
    lines.push(
      `'${stage.name}' waits for an approval by '${stage.condition.approval?.group}' (input submitter);`,
      `the wait counts towards the ${model.timeoutMinutes}-minute timeout.`,
    );
  }
  for (const secret of uniqueSecrets(model)) {
    lines.push(`Secret-text credential '${secret.jenkinsCredentialId}' → ${secret.variable}: ${secret.purpose}.`);
  }
  if (model.stages.some((stage) => stage.credentials.cloud !== 'none')) {
    lines.push(
      'Cloud stages run under an OIDC id token (Jenkins "OpenID Connect Provider" plugin, an id-token file',
      'credential), exchanged for short-lived cloud credentials: AWS by web-identity role assumption, Azure by',
      'workload identity federation. No stored keys.',
    );
  }
  return lines;
}

/** The Jenkinsfile text (without the projen marker). */
export function renderJenkinsfile(model: PipelineModel): RenderedContent {
  const agent = model.jenkins.agentLabel ? block('agent', [`label ${groovyString(model.jenkins.agentLabel)}`]) : ['agent any'];
  const tools = model.jenkins.nodeJsInstallation ? block('tools', [`nodejs ${groovyString(model.jenkins.nodeJsInstallation)}`]) : [];
  const body = block('pipeline', [
    ...agent,
    ...block('options', [
      `timeout(time: ${model.timeoutMinutes}, unit: 'MINUTES')`,
      'disableConcurrentBuilds()',
      "buildDiscarder(logRotator(numToKeepStr: '30'))",
    ]),
    ...tools,
    ...environmentBlock({ CI: 'true', ...model.environment }),
    ...block('stages', model.stages.flatMap((stage) => stageBlock(stage))),
  ]);
  return { notes: notes(model), body: body.join('\n') };
}
