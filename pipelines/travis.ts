/**
 * Renders the pipeline model as `.travis.yml` (build stages: one job per stage, in order).
 */
import type { IConstruct } from 'constructs';
import { Component } from 'projen';
import { stringify } from 'yaml';
import { uniqueSecrets, type PipelineModel, type PipelineStage } from './model';
import type { RenderedContent } from './rendered-file';
import { RenderedFile } from './rendered-file';

export interface TravisPipelineOptions {
  readonly model: PipelineModel;
  /** @default '.travis.yml' */
  readonly filePath?: string;
}

/** The `.travis.yml` of a project, rendered from the pipeline model. */
export class TravisPipeline extends Component {
  readonly file: RenderedFile;

  constructor(scope: IConstruct, options: TravisPipelineOptions) {
    super(scope, 'TravisPipeline');
    this.file = new RenderedFile(this, options.filePath ?? '.travis.yml', () => renderTravisConfiguration(options.model), { commentPrefix: '#' });
  }
}

/** The condition Travis evaluates for a job: branch filter, and `type = api` in place of a manual approval. */
export function travisCondition(stage: PipelineStage): string | undefined {
  const parts: string[] = [];
  const branches = stage.condition.branches;
  if (branches.length === 1) parts.push(`branch = ${branches[0]}`);
  if (branches.length > 1) parts.push(`branch IN (${branches.join(', ')})`);
  // Travis has no manual approval: the stage runs only in a build someone triggers through the API
  if (stage.condition.approval) parts.push('type = api');
  return parts.length === 0 ? undefined : parts.join(' AND ');
}

function environmentList(variables: Readonly<Record<string, string>>): string[] {
  return Object.entries(variables).map(([key, value]) => `${key}=${/^[\w./:@%+,-]*$/.test(value) ? value : `'${value.replace(/'/g, '\'\\\'\'')}'`}`);
}

function job(stage: PipelineStage): Record<string, unknown> {
  const condition = travisCondition(stage);
  // exported in before_script rather than set as job `env:`: Travis keys caches by job env, and the
  // stages must share one cache to hand the lake and registry on
  const exports = environmentList(stage.environment).map((assignment) => `export ${assignment}`);
  return {
    stage: stage.name,
    name: stage.name,
    ...(condition ? { if: condition } : {}),
    ...(exports.length > 0 ? { before_script: exports } : {}),
    // every job gets a fresh machine: install dependencies unless the stage does it itself or needs none
    ...(stage.needsDependencies ? {} : { install: 'skip' }),
    ...(stage.requiredTools.includes('docker') ? { services: ['docker'] } : {}),
    script: [...stage.commands],
  };
}

function notes(model: PipelineModel): string[] {
  const lines = [
    `The ${model.name} pipeline as Travis CI build stages: one job per stage, the stages in the order below.`,
    'Lake, registry and evaluation folders pass from stage to stage through the branch\'s build cache (best effort:',
    'Travis keys caches by branch and job environment); with a cloud provider they live in cloud storage.',
    'Travis keeps no build artifacts: the evaluation report and metrics are in the job log only.',
  ];
  for (const stage of model.stages.filter((candidate) => candidate.condition.approval)) {
    lines.push(
      `Travis has no manual approval: '${stage.name}' runs only in a build triggered through the API`,
      `(type = api: "Trigger build" in the web UI or POST /repo/{slug}/requests) by a member of '${stage.condition.approval?.group}'.`,
    );
  }
  for (const secret of uniqueSecrets(model)) {
    lines.push(`${secret.variable}: define it in the repository settings (Environment Variables, not displayed in the log): ${secret.purpose}.`);
  }
  if (model.stages.some((stage) => stage.credentials.cloud !== 'none')) {
    lines.push(
      'Travis CI issues no OIDC token, so it cannot federate into AWS or Azure without stored keys, which this',
      'template never uses. With a cloud provider, run the cloud stages from Jenkins or Azure Pipelines.',
    );
  }
  return lines;
}

/** The Travis configuration as an object (what the YAML holds). */
export function travisConfiguration(model: PipelineModel): Record<string, unknown> {
  const directories = [...new Set(model.stages.flatMap((stage) => stage.caches.filter((cache) => cache.kind === 'directory').map((cache) => cache.path)))];
  return {
    language: 'node_js',
    node_js: model.nodeVersion,
    os: 'linux',
    dist: 'jammy',
    cache: { npm: true, ...(directories.length > 0 ? { directories } : {}) },
    env: { global: environmentList(model.environment) },
    install: [...model.agentSetup],
    stages: model.stages.map((stage) => ({ name: stage.name })),
    jobs: { include: model.stages.map((stage) => job(stage)) },
  };
}

/** The `.travis.yml` text (without the projen marker). */
export function renderTravisConfiguration(model: PipelineModel): RenderedContent {
  return { notes: notes(model), body: stringify(travisConfiguration(model), { indent: 2, lineWidth: 0 }) };
}
