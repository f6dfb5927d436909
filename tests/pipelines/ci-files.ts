/**
 * Test helpers: render the three CI files of a model through projen (into a temporary outdir) and
 * read each back into one comparable shape: stage names in order, their commands, branch filters,
 * and the approval gate.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { Project, Testing } from 'projen';
import { parse } from 'yaml';
import { parseJenkinsfile } from './jenkinsfile-parser';
import { AzurePipeline, azureSetupStepPrefix } from '../../pipelines/azure';
import { JenkinsPipeline } from '../../pipelines/jenkins';
import type { PipelineModel } from '../../pipelines/model';
import { TravisPipeline } from '../../pipelines/travis';

export const repositoryRoot = path.resolve(__dirname, '../..');

export interface RenderedCiFiles {
  readonly jenkinsfile: string;
  readonly travis: string;
  readonly azure: string;
}

/** Synthesizes a throw-away projen project holding the three components; Testing.synth removes the outdir. */
export function renderCiFiles(model: PipelineModel): RenderedCiFiles {
  // Testing.synth must get an outdir in the temporary directory, or it may delete the working directory
  const outdir = mkdtempSync(path.join(tmpdir(), 'retail-mlops-pipelines-'));
  const project = new Project({ name: 'pipelines-under-test', outdir });
  new JenkinsPipeline(project, { model });
  new TravisPipeline(project, { model });
  new AzurePipeline(project, { model });
  const files = Testing.synth(project);
  return { jenkinsfile: files.Jenkinsfile as string, travis: files['.travis.yml'] as string, azure: files['azure-pipelines.yml'] as string };
}

/** What every CI file says about a stage, in a form the three can be compared in. */
export interface ComparableStage {
  readonly name: string;
  readonly commands: readonly string[];
  /** Branch filter; empty = every branch. */
  readonly branches: readonly string[];
  readonly approval: boolean;
}

export function jenkinsStages(text: string): ComparableStage[] {
  return parseJenkinsfile(text).stages.map((stage) => ({
    name: stage.name,
    commands: stage.commands,
    branches: stage.branches,
    approval: stage.approval !== undefined,
  }));
}

interface TravisJob {
  readonly stage: string;
  readonly if?: string;
  readonly script: string | readonly string[];
}

export function travisStages(text: string): ComparableStage[] {
  const configuration = parse(text) as { jobs: { include: TravisJob[] } };
  return configuration.jobs.include.map((job) => {
    const condition = job.if ?? '';
    const single = /branch = ([\w./-]+)/.exec(condition);
    const several = /branch IN \(([^)]*)\)/.exec(condition);
    return {
      name: job.stage,
      commands: typeof job.script === 'string' ? [job.script] : [...job.script],
      branches: single ? [single[1]] : several ? several[1].split(',').map((branch) => branch.trim()) : [],
      approval: /\btype = api\b/.test(condition),
    };
  });
}

interface AzureStep {
  readonly script?: string;
  readonly task?: string;
  readonly displayName?: string;
  readonly inputs?: Record<string, unknown>;
}

interface AzureJob {
  readonly job?: string;
  readonly deployment?: string;
  readonly environment?: string;
  readonly steps?: AzureStep[];
  readonly strategy?: { runOnce: { deploy: { steps: AzureStep[] } } };
}

export interface AzureDefinition {
  readonly stages: { stage: string; displayName: string; condition?: string; jobs: AzureJob[] }[];
}

/** The steps of a job, whether a plain job or a deployment job. */
export function azureJobSteps(job: AzureJob): AzureStep[] {
  return job.steps ?? job.strategy?.runOnce.deploy.steps ?? [];
}

export function azureStages(text: string): ComparableStage[] {
  const definition = parse(text) as AzureDefinition;
  return definition.stages.map((stage) => {
    const commands = stage.jobs.flatMap((job) =>
      azureJobSteps(job)
        .filter((step) => !(step.displayName ?? '').startsWith(azureSetupStepPrefix))
        .flatMap((step) => (step.script !== undefined ? [step.script] : step.task === 'AzureCLI@2' ? [String(step.inputs?.inlineScript)] : [])),
    );
    const branches = [...(stage.condition ?? '').matchAll(/'refs\/heads\/([^']+)'/g)].map((match) => match[1]);
    const approval = stage.jobs.some((job) => job.deployment !== undefined && job.environment !== undefined);
    return { name: stage.displayName, commands, branches, approval };
  });
}

/** The model's stages in the same shape. */
export function modelStages(model: PipelineModel): ComparableStage[] {
  return model.stages.map((stage) => ({
    name: stage.name,
    commands: stage.commands,
    branches: stage.condition.branches,
    approval: stage.condition.approval !== undefined,
  }));
}
